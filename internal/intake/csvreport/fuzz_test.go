package csvreport

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

var fieldNames = map[string]bool{
	"ip": true, "timestamp": true, "log": true, "target": true,
	"target_port": true, "protocol": true, "source_port": true, "row": true,
}

func FuzzReader(f *testing.F) {
	seeds := []string{
		"ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00+01:00,sshd: failed password\n",
		"\uFEFFip,timestamp,log\r\n192.0.2.1,2026-03-02T10:00:00Z,a\r\n2001:db8::1,2026-03-02T10:00Z,b\r\n",
		"IP,Categories,ReportDate,Comment\n192.0.2.7,\"18,22\",2026-03-01T23:59:59-05:00,SSH brute force\n",
		"192.0.2.1,2026-03-02T10:00:00Z,log,203.0.113.9,22,tcp,51515\n192.0.2.2,2026-03-02,x\n",
		"ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,\"multi\nline \"\"quoted\"\"\"\n192.0.2.2,2026-03-02T10:00:00,naive\n",
		"ip,timestamp,log\n192.0.2.1,2026-03-02T10:00:00Z,bare \" quote\n192.0.2.2,2026-03-02T10:00:00Z,\"unclosed\n",
		"source ip,datetime,details,dst_port,proto,src_port\n[::1],2026-03-02 10:00:00.123456789Z,x,70000,TCP,-1\n",
		"ip,timestamp\n,\n,,,\n\n",
		"ip,date,time\n",
		"",
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint8(i%4)|uint8(i%3/2)<<7, i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, data []byte, maxRows uint8, requireTarget bool) {
		opt := Options{
			MaxRows:       int(maxRows%8) - 1, // -1 (no limit) to 6
			RequireTarget: requireTarget,
			Validator:     testValidator(),
		}
		if maxRows&0x80 != 0 { // exercise the record bound
			opt.MaxRecordBytes = 64
		}
		if opt.MaxRows == 0 {
			opt.MaxRows = DefaultMaxRows
		}
		r, err := NewReader(bytes.NewReader(data), opt)
		if err != nil {
			var he *HeaderError
			var le *LineError
			switch {
			case errors.As(err, &he) && he.Line >= 1:
			case errors.As(err, &le) && le.Line >= 1 && errors.Is(err, ErrRecordTooLarge):
			default:
				t.Fatalf("NewReader: %v is not a *HeaderError or too large a record, with a line", err)
			}
			return
		}
		last, rows := 1, 0
		for range len(data) + 2 {
			row, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) || le.Line < last {
					t.Fatalf("after line %d: %v is not a *LineError at or after it", last, err)
				}
				if errors.Is(err, ErrTooManyRows) && rows != opt.MaxRows {
					t.Fatalf("too many rows after %d, limit %d", rows, opt.MaxRows)
				}
				if _, err2 := r.Next(); err2 != err {
					t.Fatalf("the fatal error is not sticky")
				}
				return
			}
			rows++
			if opt.MaxRows > 0 && rows > opt.MaxRows {
				t.Fatalf("%d rows, limit %d", rows, opt.MaxRows)
			}
			if row.Line < last {
				t.Fatalf("line %d after line %d", row.Line, last)
			}
			last = row.Line
			for _, e := range row.Errors {
				if !fieldNames[e.Field] || e.Code == "" || e.Message == "" {
					t.Fatalf("line %d: error %+v", row.Line, e)
				}
			}
			if len(row.Errors) == 0 {
				in := row.Incident
				if !in.Source.IsValid() || in.At.IsZero() || in.SourceIP != in.Source.String() {
					t.Fatalf("line %d: valid row without an address or an instant: %+v", row.Line, in)
				}
				if in.Log == "" || (requireTarget && in.Target == "") {
					t.Fatalf("line %d: valid row without log or target: %+v", row.Line, in)
				}
				for _, p := range []*int{in.SourcePort, in.TargetPort} {
					if p != nil && (*p < 0 || *p > 65535) {
						t.Fatalf("line %d: port %d", row.Line, *p)
					}
				}
			}
		}
		t.Fatalf("Next did not end after %d calls on %d bytes", len(data)+2, len(data))
	})
}
