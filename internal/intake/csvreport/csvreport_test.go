package csvreport

import (
	"errors"
	"io"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"abusedesk/internal/report"
)

var testNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

func testValidator() *report.Validator {
	return &report.Validator{Now: func() time.Time { return testNow }}
}

// readAll reads every row of in (copies of them) and the error that ended
// the reading (nil for io.EOF).
func readAll(t *testing.T, in io.Reader, opt Options) ([]Row, error) {
	t.Helper()
	if opt.Validator == nil {
		opt.Validator = testValidator()
	}
	r, err := NewReader(in, opt)
	if err != nil {
		return nil, err
	}
	var rows []Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			if row != nil {
				t.Errorf("Next returned a row with the error %v", err)
			}
			if _, err2 := r.Next(); err2 != err {
				t.Errorf("the fatal error is not sticky: %v then %v", err, err2)
			}
			return rows, err
		}
		rows = append(rows, *row)
	}
}

// want describes one expected row: its line, and either the codes of its
// errors as "field:code", or (when ok) its address and instant.
type want struct {
	line int
	errs []string // "field:code"
	ip   string   // when no errors: the canonical address
	at   string   // when no errors: RFC 3339 in UTC
}

func checkRows(t *testing.T, rows []Row, wants []want) {
	t.Helper()
	if len(rows) != len(wants) {
		for _, r := range rows {
			t.Logf("row line %d: %+v %v", r.Line, r.Incident, r.Errors)
		}
		t.Fatalf("%d rows, want %d", len(rows), len(wants))
	}
	for i, w := range wants {
		r := rows[i]
		if r.Line != w.line {
			t.Errorf("row %d: line %d, want %d", i, r.Line, w.line)
		}
		var got []string
		for _, e := range r.Errors {
			got = append(got, e.Field+":"+e.Code)
			if e.Message == "" {
				t.Errorf("row %d: error %s:%s without a message", i, e.Field, e.Code)
			}
		}
		if !slices.Equal(got, w.errs) {
			t.Errorf("row %d (line %d): errors %v, want %v (%v)", i, r.Line, got, w.errs, r.Errors)
		}
		if len(w.errs) == 0 {
			if w.ip != "" && r.Incident.Source.String() != w.ip {
				t.Errorf("row %d: source %v, want %s", i, r.Incident.Source, w.ip)
			}
			if w.at != "" && r.Incident.At.Format(time.RFC3339Nano) != w.at {
				t.Errorf("row %d: at %v, want %s", i, r.Incident.At, w.at)
			}
		}
	}
}

func TestRows(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opt  Options
		want []want
	}{
		{
			name: "basic",
			in:   "ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00+01:00,sshd: failed password\n2001:DB8::1,2026-03-02T10:00:00Z,syn flood\n",
			want: []want{
				{line: 2, ip: "192.0.2.1", at: "2026-03-02T09:00:00Z"},
				{line: 3, ip: "2001:db8::1", at: "2026-03-02T10:00:00Z"},
			},
		},
		{
			name: "BOM",
			in:   "\uFEFFip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,x\n",
			want: []want{{line: 2, ip: "192.0.2.1"}},
		},
		{
			name: "BOM headerless",
			in:   "\uFEFF192.0.2.1,2026-03-02T10:00:00Z,x\n",
			want: []want{{line: 1, ip: "192.0.2.1"}},
		},
		{
			name: "CRLF",
			in:   "ip,timestamp,log\r\n192.0.2.1,2026-03-02T10:00:00Z,a\r\n192.0.2.2,2026-03-02T10:00:00Z,b\r\n",
			want: []want{{line: 2, ip: "192.0.2.1"}, {line: 3, ip: "192.0.2.2"}},
		},
		{
			name: "no final newline",
			in:   "ip,timestamp,log\r\n192.0.2.1,2026-03-02T10:00:00Z,a",
			want: []want{{line: 2, ip: "192.0.2.1"}},
		},
		{
			name: "multiline quoted log",
			in: "ip,timestamp,log\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,\"line one\nline two, with a comma\nline \"\"three\"\"\"\n" +
				"192.0.2.2,2026-03-02T10:00:00Z,x\n" +
				"\n" +
				"192.0.2.3,2026-03-02T10:00:00+02:00,\"a\r\nb\"\r\n" +
				"192.0.2.4,nope,y\n",
			want: []want{
				{line: 2, ip: "192.0.2.1"},
				{line: 5, ip: "192.0.2.2"},
				{line: 7, ip: "192.0.2.3", at: "2026-03-02T08:00:00Z"},
				{line: 9, errs: []string{"timestamp:invalid_timestamp"}},
			},
		},
		{
			name: "AbuseIPDB",
			in: "IP,Categories,ReportDate,Comment\n" +
				"192.0.2.7,\"18,22\",2026-03-01T23:59:59-05:00,SSH brute force\n",
			want: []want{{line: 2, ip: "192.0.2.7", at: "2026-03-02T04:59:59Z"}},
		},
		{
			name: "headerless positional",
			in: "192.0.2.1,2026-03-02T10:00:00Z,log one,203.0.113.9,22,TCP,51515\n" +
				"192.0.2.2,2026-03-02T10:00:00Z,log two\n" +
				"192.0.2.3,2026-03-02T10:00:00Z,log three,example.net\n",
			want: []want{{line: 1, ip: "192.0.2.1"}, {line: 2, ip: "192.0.2.2"}, {line: 3, ip: "192.0.2.3"}},
		},
		{
			name: "aliases in any order, unknown columns ignored",
			in: "Comment,Source IP,Dst_Port,Reporter,DateTime,proto,Destination,src-port\n" +
				"evidence,192.0.2.1,443,me,2026-03-02 10:00:00Z,udp,203.0.113.1,5353\n",
			want: []want{{line: 2, ip: "192.0.2.1", at: "2026-03-02T10:00:00Z"}},
		},
		{
			name: "more specific alias wins",
			in:   "first_seen,last_seen,src_ip,ip,details\n2026-03-02T10:00:00Z,2026-03-03T10:00:00Z,192.0.2.99,192.0.2.1,x\n",
			want: []want{{line: 2, ip: "192.0.2.1", at: "2026-03-02T10:00:00Z"}},
		},
		{
			name: "naive timestamp",
			in: "ip,timestamp,log\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,ok\n" +
				"192.0.2.2,2026-03-02T10:00:00,naive\n" +
				"192.0.2.3,2026-03-02,date only\n" +
				"192.0.2.4,2026-03-02T10:00:00+01:00,ok\n",
			want: []want{
				{line: 2, ip: "192.0.2.1"},
				{line: 3, errs: []string{"timestamp:timezone_required"}},
				{line: 4, errs: []string{"timestamp:timezone_required"}},
				{line: 5, ip: "192.0.2.4"},
			},
		},
		{
			name: "bad and missing values",
			in: "ip,timestamp,log,target,target_port,protocol,source_port\n" +
				"192.0.2.300,2026-03-02T10:00:00Z,x\n" +
				",2026-03-02T10:00:00Z,x\n" +
				"192.0.2.1,,x\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,   \n" +
				"192.0.2.1,2026-03-02T10:00:00Z,x,not a host!,22\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,x,,70000\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,x,,ssh,,-1\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,x,,99999999999999999999999,tcp,22.0\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,x,,0,t c p,65535\n" +
				"192.0.2.1,2026-03-20T10:00:00Z,x\n" +
				"192.0.2.1,0001-01-01 00:00Z,zero instant (found by FuzzReader)\n" +
				"192.0.2.1,1969-12-31T23:59:59.999Z,x\n" +
				"192.0.2.1,1970-01-01T00:30:00+01:00,x\n" +
				"192.0.2.1,1970-01-01T00:00:00Z,x\n",
			want: []want{
				{line: 2, errs: []string{"ip:invalid_ip"}},
				{line: 3, errs: []string{"ip:required"}},
				{line: 4, errs: []string{"timestamp:required"}},
				{line: 5, errs: []string{"log:required"}},
				{line: 6, errs: []string{"log:required"}},
				{line: 7, errs: []string{"target:invalid_host"}},
				{line: 8, errs: []string{"target_port:invalid_port"}},
				{line: 9, errs: []string{"target_port:invalid_port", "source_port:invalid_port"}},
				{line: 10, errs: []string{"target_port:invalid_port", "source_port:invalid_port"}},
				{line: 11, errs: []string{"protocol:invalid"}},
				{line: 12, errs: []string{"timestamp:timestamp_in_future"}},
				{line: 13, errs: []string{"timestamp:invalid_timestamp"}},
				{line: 14, errs: []string{"timestamp:invalid_timestamp"}},
				{line: 15, errs: []string{"timestamp:invalid_timestamp"}},
				{line: 16, at: "1970-01-01T00:00:00Z"},
			},
		},
		{
			name: "target required when asked",
			in:   "ip,timestamp,log,target\n192.0.2.1,2026-03-02T10:00:00Z,x\n192.0.2.1,2026-03-02T10:00:00Z,x,203.0.113.1\n192.0.2.1,2026-03-02T10:00:00Z,,\n",
			opt:  Options{RequireTarget: true},
			want: []want{
				{line: 2, errs: []string{"target:required"}},
				{line: 3, ip: "192.0.2.1"},
				{line: 4, errs: []string{"target:required", "log:required"}},
			},
		},
		{
			name: "short rows and spreadsheet blank rows",
			in:   "ip,timestamp,log,target,target_port\n192.0.2.1,2026-03-02T10:00:00Z,x\n,,,,\n  ,  \n192.0.2.2\n",
			want: []want{
				{line: 2, ip: "192.0.2.1"},
				{line: 5, errs: []string{"timestamp:required", "log:required"}},
			},
		},
		{
			name: "bare quote is a row error, reading goes on",
			in: "ip,timestamp,log\n" +
				"192.0.2.1,2026-03-02T10:00:00Z,GET /\"x\" 404\n" +
				"192.0.2.2,2026-03-02T10:00:00Z,\"says \"hi\" here\"\n" +
				"192.0.2.3,2026-03-02T10:00:00Z,\"two\nlines\"x\n" +
				"192.0.2.4,2026-03-02T10:00:00Z,fine\n",
			want: []want{
				{line: 2, errs: []string{"row:invalid"}},
				{line: 3, errs: []string{"row:invalid"}},
				{line: 4, errs: []string{"row:invalid"}},
				{line: 6, ip: "192.0.2.4"},
			},
		},
		{
			name: "IP forms are normalised",
			in:   "ip,timestamp,log\n[2001:db8::1],2026-03-02T10:00:00Z,x\n::ffff:192.0.2.1,2026-03-02T10:00:00Z,x\n  192.0.2.5  ,  2026-03-02T10:00:00Z  ,x\n",
			want: []want{{line: 2, ip: "2001:db8::1"}, {line: 3, ip: "192.0.2.1"}, {line: 4, ip: "192.0.2.5"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := readAll(t, strings.NewReader(tt.in), tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, rows, tt.want)
			// The same through the smallest buffer, a reader that
			// gives half of what is asked, and a record bound just above
			// the longest record: the bound must not trip.
			small := tt.opt
			small.bufSize, small.MaxRecordBytes = 1, 120
			rows, err = readAll(t, iotest.HalfReader(strings.NewReader(tt.in)), small)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, rows, tt.want)
		})
	}
}

func TestValues(t *testing.T) {
	in := "IP,Categories,ReportDate,Comment,target,dst_port,proto,src_port,extra\n" +
		" 192.0.2.1 , 18,22 ,2026-03-02T10:00:00Z,\"  indented\nsecond line\r\n\n\",  Example.NET ,  22 , TCP ,0,ignored\n"
	// "18,22" unquoted spans two fields: Categories is "18", and every
	// later column shifts; quote it instead.
	in = strings.Replace(in, " 18,22 ", "\" 18,22 \"", 1)
	rows, err := readAll(t, strings.NewReader(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].Errors) > 0 {
		t.Fatalf("%+v", rows)
	}
	r := rows[0]
	in1 := r.Incident
	if r.Categories != "18,22" {
		t.Errorf("categories %q", r.Categories)
	}
	if in1.SourceIP != "192.0.2.1" || in1.Source != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("source %q %v", in1.SourceIP, in1.Source)
	}
	if in1.Log != "  indented\nsecond line" {
		t.Errorf("log %q: leading spaces are kept, trailing newlines dropped", in1.Log)
	}
	if in1.Target != "Example.NET" || in1.Protocol != "tcp" {
		t.Errorf("target %q protocol %q", in1.Target, in1.Protocol)
	}
	if in1.TargetPort == nil || *in1.TargetPort != 22 || in1.SourcePort == nil || *in1.SourcePort != 0 {
		t.Errorf("ports %v %v", in1.TargetPort, in1.SourcePort)
	}
	if !in1.At.Equal(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)) || in1.Timestamp != "2026-03-02T10:00:00Z" {
		t.Errorf("at %v timestamp %q", in1.At, in1.Timestamp)
	}
}

// A copied Row stays valid after the Reader moved on: its port pointers are
// not rewritten by later rows.
func TestRowCopySurvivesReuse(t *testing.T) {
	var b strings.Builder
	b.WriteString("ip,timestamp,log,target_port,source_port\n")
	const n = 1000
	for i := range n {
		b.WriteString("192.0.2.1,2026-03-02T10:00:00Z,x,")
		b.WriteString(strings.Repeat("1", 1+i%4))
		b.WriteString(",")
		b.WriteString(strings.Repeat("2", 1+i%4))
		b.WriteString("\n")
	}
	r, err := NewReader(strings.NewReader(b.String()), Options{Validator: testValidator()})
	if err != nil {
		t.Fatal(err)
	}
	var kept []Row
	var last *Row
	for {
		row, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if last != nil && row != last {
			t.Log("a new *Row per call; reuse is allowed, not required")
		}
		last = row
		kept = append(kept, *row)
	}
	if len(kept) != n {
		t.Fatalf("%d rows", len(kept))
	}
	for i, row := range kept {
		tp, sp := *row.Incident.TargetPort, *row.Incident.SourcePort
		wantT := []int{1, 11, 111, 1111}[i%4]
		if tp != wantT || sp != 2*wantT {
			t.Fatalf("row %d: ports %d %d, want %d %d", i, tp, sp, wantT, 2*wantT)
		}
		if row.Line != i+2 {
			t.Fatalf("row %d: line %d", i, row.Line)
		}
	}
}

func TestTooManyRows(t *testing.T) {
	in := "ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,a\n192.0.2.300,2026-03-02T10:00:00Z,b\n\n192.0.2.3,2026-03-02T10:00:00Z,c\n"
	rows, err := readAll(t, strings.NewReader(in), Options{MaxRows: 2})
	if len(rows) != 2 {
		t.Errorf("%d rows before the error, want 2 (bad rows count)", len(rows))
	}
	var le *LineError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooManyRows) || le.Line != 5 {
		t.Fatalf("err %v, want a LineError for line 5 wrapping ErrTooManyRows", err)
	}
	if !strings.Contains(err.Error(), "line 5") || !strings.Contains(err.Error(), "2 rows") {
		t.Errorf("message %q", err)
	}
	// Exactly MaxRows rows is fine.
	if _, err := readAll(t, strings.NewReader(in), Options{MaxRows: 3}); err != nil {
		t.Errorf("3 rows with MaxRows 3: %v", err)
	}
	// Headerless: the first line is a row too.
	_, err = readAll(t, strings.NewReader("192.0.2.1,2026-03-02T10:00:00Z,a\n192.0.2.2,2026-03-02T10:00:00Z,a\n"), Options{MaxRows: 1})
	if !errors.As(err, &le) || le.Line != 2 {
		t.Errorf("headerless: %v", err)
	}
	// Negative: no limit.
	if rows, err := readAll(t, strings.NewReader(in), Options{MaxRows: -1}); err != nil || len(rows) != 3 {
		t.Errorf("no limit: %d rows, %v", len(rows), err)
	}
}

func TestDefaultMaxRows(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million rows")
	}
	rows := 0
	r, err := NewReader(newGen(DefaultMaxRows+5, false), Options{})
	if err != nil {
		t.Fatal(err)
	}
	for {
		_, err = r.Next()
		if err != nil {
			break
		}
		rows++
	}
	var le *LineError
	if !errors.As(err, &le) || !errors.Is(err, ErrTooManyRows) || le.Line != DefaultMaxRows+2 {
		t.Fatalf("after %d rows: %v", rows, err)
	}
}

func TestHeaderErrors(t *testing.T) {
	tests := []struct {
		name, in string
		line     int
		contains []string
	}{
		{"no ip column", "address_of_attack,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,x\n", 1, []string{"no ip column", "source_ip", "src_ip", "ReportDate"}},
		{"no timestamp column", "ip,when,log\n", 1, []string{"no timestamp column", "datetime"}},
		{"neither", "a,b,c\n", 1, []string{"no ip and no timestamp and no log column"}},
		{"no log column", "ip,timestamp\n192.0.2.1,2026-03-02T10:00:00Z\n", 1, []string{"no log column"}},
		{"bad first address is not data", "192.0.2.300,2026-03-02T10:00:00Z,x\n", 1, []string{"no ip"}},
		{"empty file", "", 1, []string{"empty"}},
		{"only a BOM and blank lines", "\uFEFF\n\n", 1, []string{"empty"}},
		{"date and time side by side", "ip,date,time,log\n", 1, []string{"columns 2 (\"date\") and 3 (\"time\") both give the timestamp"}},
		{"same name twice", "ip,IP,timestamp\n", 1, []string{"columns 1 (\"ip\") and 2 (\"IP\") both give the ip"}},
		{"header after blank lines", "\n\nfoo,bar\n", 3, []string{"no ip"}},
		{"broken header", "ip,\"time\"stamp,log\n", 1, []string{"not valid CSV"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.in), Options{})
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("err %v, want a *HeaderError", err)
			}
			if he.Line != tt.line {
				t.Errorf("line %d, want %d", he.Line, tt.line)
			}
			for _, s := range tt.contains {
				if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(s)) {
					t.Errorf("%q does not say %q", err, s)
				}
			}
		})
	}
}

func TestFatalStructure(t *testing.T) {
	t.Run("quote never closed", func(t *testing.T) {
		in := "ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,ok\n192.0.2.2,2026-03-02T10:00:00Z,\"oops\n192.0.2.3,2026-03-02T10:00:00Z,lost\n192.0.2.4,2026-03-02T10:00:00Z,lost\n"
		rows, err := readAll(t, strings.NewReader(in), Options{})
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, ErrUnclosedQuote) || le.Line != 3 {
			t.Fatalf("err %v, want ErrUnclosedQuote at line 3", err)
		}
		if len(rows) != 1 || rows[0].Line != 2 {
			t.Errorf("rows %+v", rows)
		}
	})
	t.Run("quote never closed on the last line is a row error", func(t *testing.T) {
		in := "ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,\"oops\n"
		rows, err := readAll(t, strings.NewReader(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, rows, []want{{line: 2, errs: []string{"row:invalid"}}})
	})
	t.Run("record too large", func(t *testing.T) {
		var b strings.Builder
		b.WriteString("ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,ok\n192.0.2.1,2026-03-02T10:00:00Z,\"")
		for range 20000 {
			b.WriteString("192.0.2.1,2026-03-02T10:00:00Z,swallowed by the open quote\n")
		}
		rows, err := readAll(t, strings.NewReader(b.String()), Options{MaxRecordBytes: 4096})
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, ErrRecordTooLarge) || le.Line != 3 {
			t.Fatalf("err %v, want ErrRecordTooLarge at line 3", err)
		}
		if len(rows) != 1 {
			t.Errorf("%d rows", len(rows))
		}
	})
	t.Run("one long line", func(t *testing.T) {
		in := "ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,ok\n\n192.0.2.1,2026-03-02T10:00:00Z," + strings.Repeat("x", 300_000) + "\n"
		_, err := readAll(t, strings.NewReader(in), Options{MaxRecordBytes: 100_000})
		if !errors.Is(err, ErrRecordTooLarge) {
			t.Fatalf("err %v", err)
		}
		// The default bound takes it, and the validator refuses the log.
		rows, err := readAll(t, strings.NewReader(in), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, rows, []want{{line: 2}, {line: 4, errs: []string{"log:too_large"}}})
	})
	t.Run("reader error", func(t *testing.T) {
		boom := errors.New("connection reset")
		in := io.MultiReader(strings.NewReader("ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,\"a\nb\"\n"), iotest.ErrReader(boom))
		rows, err := readAll(t, in, Options{})
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, boom) || le.Line != 4 {
			t.Fatalf("err %v, want the reader's error at line 4", err)
		}
		if len(rows) != 1 {
			t.Errorf("%d rows", len(rows))
		}
	})
	t.Run("reader error in the header", func(t *testing.T) {
		boom := errors.New("connection reset")
		_, err := NewReader(io.MultiReader(strings.NewReader("ip,timest"), iotest.ErrReader(boom)), Options{})
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, boom) || le.Line != 1 {
			t.Fatalf("err %v, want the reader's error at line 1", err)
		}
	})
	t.Run("header too large", func(t *testing.T) {
		_, err := NewReader(strings.NewReader("ip,\"timestamp"+strings.Repeat(",", 10000)), Options{MaxRecordBytes: 1000})
		var le *LineError
		if !errors.As(err, &le) || !errors.Is(err, ErrRecordTooLarge) || le.Line != 1 {
			t.Fatalf("err %v, want ErrRecordTooLarge at line 1", err)
		}
	})
	t.Run("one byte at a time", func(t *testing.T) {
		in := "\uFEFFip,timestamp,log\r\n192.0.2.1,2026-03-02T10:00:00Z,\"a\r\nb\"\r\n192.0.2.2,2026-03-02T10:00:00Z,c\r\n"
		rows, err := readAll(t, iotest.OneByteReader(strings.NewReader(in)), Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, rows, []want{{line: 2, ip: "192.0.2.1"}, {line: 4, ip: "192.0.2.2"}})
	})
}

// The clock is read once per clockEvery rows; a refusal as future is
// confirmed with a fresh reading, so a late cached clock refuses nothing
// that the present accepts.
func TestClockCache(t *testing.T) {
	now := testNow
	calls := 0
	v := &report.Validator{Now: func() time.Time { calls++; return now }}
	in := "ip,timestamp,log\n192.0.2.1,2026-03-10T12:00:00Z,x\n192.0.2.2,2026-03-11T13:00:00Z,y\n192.0.2.3,2026-03-11T20:00:00Z,z\n"
	r, err := NewReader(strings.NewReader(in), Options{Validator: v})
	if err != nil {
		t.Fatal(err)
	}
	row, err := r.Next()
	if err != nil || len(row.Errors) > 0 {
		t.Fatal(err, row.Errors)
	}
	now = now.Add(2 * time.Hour) // 2026-03-11T14:00 is now within a day
	row, err = r.Next()
	if err != nil || len(row.Errors) > 0 {
		t.Fatalf("a time within a day of the present was refused: %v %v", err, row.Errors)
	}
	row, err = r.Next()
	if err != nil || !slices.Equal(row.Errors.Codes(), []string{report.CodeFutureTimestamp}) {
		t.Fatalf("%v %v", err, row.Errors)
	}
	if calls > 4 {
		t.Errorf("%d clock readings for 3 rows", calls)
	}
}

func TestAcceptedNamesListsEveryAlias(t *testing.T) {
	s := acceptedNames()
	for name := range aliases {
		if !strings.Contains(s, name) {
			t.Errorf("%q is not listed", name)
		}
	}
	for name, a := range aliases {
		if normName(name) != name {
			t.Errorf("alias %q is not in normal form", name)
		}
		if a.col < 0 || a.col >= numCols {
			t.Errorf("alias %q: column %d", name, a.col)
		}
	}
}

// Found by FuzzReader: a column far to the right and a short row.
func TestShortRowFarColumn(t *testing.T) {
	in := "ip,log,,,,,,,time\n0\n192.0.2.1,,,,,,,,2026-03-02T10:00:00Z,\n192.0.2.2\n"
	rows, err := readAll(t, strings.NewReader(in), Options{RequireTarget: true})
	if err != nil {
		t.Fatal(err)
	}
	checkRows(t, rows, []want{
		{line: 2, errs: []string{"ip:invalid_ip", "target:required", "timestamp:required", "log:required"}},
		{line: 3, errs: []string{"target:required", "log:required"}},
		{line: 4, errs: []string{"target:required", "timestamp:required", "log:required"}},
	})
}
