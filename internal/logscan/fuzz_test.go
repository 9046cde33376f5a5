package logscan

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/intake/csvreport"
	"abusedesk/internal/report"
)

// samples lists the sample logs.
func samples(f *testing.F) []string {
	files, _ := filepath.Glob("testdata/*")
	var out []string
	for _, name := range files {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() {
			out = append(out, name)
		}
	}
	if len(out) < 10 {
		f.Fatalf("only %d sample logs in testdata", len(out))
	}
	return out
}

// seedLines adds every line of the sample logs.
func seedLines(f *testing.F) {
	for _, name := range samples(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range bytes.Split(b, []byte("\n")) {
			f.Add(line)
		}
	}
}

// FuzzParseLine: any line reads without a panic, the same way twice, leaves
// the line alone, and an event it finds is one the desk can take: a plain
// address (no zone, IPv4 not mapped), a count, ports in range, a target
// from the line, and a time.
func FuzzParseLine(f *testing.F) {
	seedLines(f)
	f.Add([]byte("<13>1 2026-03-02T10:00:00Z h sshd 1 - [a b=\"\\]\"][c] \xEF\xBB\xBFFailed password for root from 203.0.113.7 port 1 ssh2"))
	f.Add([]byte("Mon 2026-03-29 02:30:00 CEST h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2"))
	loc := time.FixedZone("X", 3600)
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := bytes.Clone(line)
		p := &Parser{Location: loc, Reference: time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC)}
		var ev Event
		k := p.ParseLine(line, &ev)
		if !bytes.Equal(line, orig) {
			t.Fatal("the line was modified")
		}
		p2 := &Parser{Location: loc, Reference: p.Reference}
		var ev2 Event
		if k2 := p2.ParseLine(orig, &ev2); k2 != k || ev2.Addr != ev.Addr || ev2.Count != ev.Count {
			t.Fatalf("two readings differ: %d %v ×%d, %d %v ×%d", k, ev.Addr, ev.Count, k2, ev2.Addr, ev2.Count)
		}
		if k > RepeatLast {
			t.Fatalf("kind %d", k)
		}
		if k == RepeatLast && ev.Count < 1 {
			t.Fatalf("repeat ×%d", ev.Count)
		}
		if k != Abuse && k != LoggedIn {
			return
		}
		a := ev.Addr
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("address %v", a)
		}
		if k == LoggedIn {
			return
		}
		if ev.Count < 1 {
			t.Fatalf("count %d", ev.Count)
		}
		if ev.TargetPort < -1 || ev.TargetPort > 65535 || ev.SourcePort < -1 || ev.SourcePort > 65535 {
			t.Fatalf("ports %d %d", ev.TargetPort, ev.SourcePort)
		}
		if len(ev.Target) > 0 && !bytes.Contains(line, ev.Target) {
			t.Fatalf("target %q is not in the line", ev.Target)
		}
		if !bytes.Equal(ev.Line, trimEOL(line)) {
			t.Fatalf("line %q", ev.Line)
		}
		ts := p.Time(&ev).Format(TimeLayout)
		if _, err := report.ParseTimestamp(ts); err != nil && p.Time(&ev).Year() >= 0 && p.Time(&ev).Year() <= 9999 {
			t.Fatalf("time %s does not read: %v", ts, err)
		}
	})
}

// FuzzScan: any input (several lines, journal export entries, compressed
// or not) is read to its end without a panic, its counts add up, and the
// CSV written from it is read by the desk's own reader, every row with a
// valid address, a zone and a log.
func FuzzScan(f *testing.F) {
	for _, name := range samples(f) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, uint8(2))
	}
	f.Add([]byte("MESSAGE\n\x05\x00\x00\x00\x00\x00\x00\x00ab\ncd\n\n"), uint8(1))
	f.Add([]byte("__REALTIME_TIMESTAMP=1\nMESSAGE\n\xff\xff\xff\xff\xff\xff\xff\xff"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, maxPerIP uint8) {
		c := &Collector{MaxPerIP: int(maxPerIP % 6)}
		st := Scan(bytes.NewReader(data), "fuzz", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Options{Location: time.UTC, Workers: 1}, c)
		// The parallel scan, in blocks of 1 to 64 bytes, finds the same.
		cp := &Collector{MaxPerIP: c.MaxPerIP}
		stp := Scan(bytes.NewReader(data), "fuzz", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), Options{Location: time.UTC, Workers: 3, blockSize: 1 + int(maxPerIP>>2)}, cp)
		var seq, par bytes.Buffer
		c.WriteCSV(&seq, WriteOptions{})
		cp.WriteCSV(&par, WriteOptions{})
		if (st.Err == nil) != (stp.Err == nil) || st.Lines != stp.Lines || st.Events != stp.Events || st.Unreadable != stp.Unreadable || seq.String() != par.String() {
			t.Fatalf("sequential %+v\n%s\nparallel %+v\n%s", st, seq.String(), stp, par.String())
		}
		if st.Err != nil {
			head := data[:min(len(data), 8)]
			if !bytes.HasPrefix(head, magicGzip) && !bytes.HasPrefix(head, magicBzip2) && !bytes.HasPrefix(head, magicZstd) &&
				!bytes.HasPrefix(head, magicXz) && !bytes.HasPrefix(head, magicJournal) {
				t.Fatalf("plain input failed: %v", st.Err)
			}
		}
		if st.Unreadable > st.Lines || st.Events < 0 {
			t.Fatalf("%+v", st)
		}
		var out bytes.Buffer
		sum, err := c.WriteCSV(&out, WriteOptions{IncludeLoggedIn: true})
		if err != nil {
			t.Fatal(err)
		}
		var inSources int64
		for _, s := range c.sources {
			inSources += s.events
		}
		if inSources+c.Outside != st.Events {
			t.Fatalf("%d events in the address space and %d outside, %d counted", inSources, c.Outside, st.Events)
		}
		rd, err := csvreport.NewReader(&out, csvreport.Options{Validator: &report.Validator{Now: func() time.Time { return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) }}})
		if err != nil {
			t.Fatalf("the desk refuses the file: %v\n%s", err, out.String())
		}
		rows := 0
		for {
			row, err := rd.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("the desk stops reading: %v", err)
			}
			rows++
			for _, e := range row.Errors {
				// A year before 1970 is the line's own, kept as written.
				if e.Field == "timestamp" && e.Code == report.CodeInvalidTimestamp && strings.Contains(e.Message, "before 1970") {
					continue
				}
				t.Fatalf("line %d: %v", row.Line, e)
			}
		}
		if rows != sum.Rows {
			t.Fatalf("%d rows read, %d written", rows, sum.Rows)
		}
	})
}
