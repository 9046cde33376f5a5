package logscan

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// scanBytes scans data with opt and returns the counts and the CSV.
func scanBytes(t testing.TB, data []byte, opt Options, c *Collector) (FileStats, string) {
	t.Helper()
	st := Scan(bytes.NewReader(data), "x", time.Date(2026, 3, 3, 0, 0, 0, 0, time.UTC), opt, c)
	var out bytes.Buffer
	if _, err := c.WriteCSV(&out, WriteOptions{IncludeLoggedIn: true}); err != nil {
		t.Fatal(err)
	}
	st.Name = ""
	return st, out.String()
}

// A parallel scan finds what a sequential one does, whatever the cut into
// blocks: each sample log, and all of them in one stream with the journal
// export in the middle (the rest of the stream is then read in order) and
// a line longer than any block.
func TestParallelIsSequential(t *testing.T) {
	loc := paris(t)
	var all []byte
	inputs := map[string][]byte{}
	for _, fc := range fileCases {
		if strings.HasSuffix(fc.file, ".gz") {
			continue
		}
		b, err := os.ReadFile("testdata/" + fc.file)
		if err != nil {
			t.Fatal(err)
		}
		inputs[fc.file] = b
		if fc.file != "journal.export" {
			all = append(all, b...)
		}
	}
	exp := inputs["journal.export"]
	long := "Mar  2 10:00:00 h sshd[1]: Failed password for root from 203.0.113.99 port 1 ssh2 " + strings.Repeat("x", maxLine+100) + "\n"
	mixed := append(append(append(bytes.Clone(all[:len(all)/2]), long...), all[len(all)/2:]...), exp...)
	mixed = append(mixed, "Mar  2 11:00:00 h sshd[1]: Failed password for root from 203.0.113.98 port 2 ssh2\n"...)
	inputs["mixed"] = mixed
	inputs["no final line end"] = []byte(strings.TrimSuffix(string(all), "\n"))
	inputs["repeats across blocks"] = []byte(strings.Repeat("Mar  2 10:00:00 h sshd[1]: Failed password for root from 203.0.113.7 port 1 ssh2\nMar  2 10:00:01 h last message repeated 3 times\nMar  2 10:00:02 h CRON[1]: x\nMar  2 10:00:03 h last message repeated 2 times\n", 50))
	for name, data := range inputs {
		wantSt, want := scanBytes(t, data, Options{Location: loc, Workers: 1}, &Collector{Space: testSpace(t)})
		if wantSt.Lines == 0 || wantSt.Events == 0 {
			t.Fatalf("%s: nothing read: %+v", name, wantSt)
		}
		for _, opt := range []Options{
			{Location: loc, Workers: 2},
			{Location: loc, Workers: 3, blockSize: 1},
			{Location: loc, Workers: 4, blockSize: 64},
			{Location: loc, Workers: 2, blockSize: 1000},
		} {
			st, got := scanBytes(t, data, opt, &Collector{Space: testSpace(t)})
			if st != wantSt || got != want {
				t.Errorf("%s, %d workers, blocks of %d: %+v\n%s\nwant %+v\n%s", name, opt.Workers, opt.blockSize, st, got, wantSt, want)
			}
		}
	}
}
