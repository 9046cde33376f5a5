package report

import (
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UTC()
	}
	good := map[string]time.Time{
		"2026-03-02T10:00:00Z":            utc("2026-03-02T10:00:00Z"),
		"2026-03-02T10:00:00+01:00":       utc("2026-03-02T09:00:00Z"),
		"2026-03-02T10:00+01:00":          utc("2026-03-02T09:00:00Z"), // ISO 8601 without seconds
		"2026-03-02 10:00:00-05:30":       utc("2026-03-02T15:30:00Z"),
		"2026-03-02t10:00:00z":            utc("2026-03-02T10:00:00Z"),
		"2026-03-02T10:00:00.123456789Z":  utc("2026-03-02T10:00:00.123456789Z"),
		"2026-03-02T10:00:00,5Z":          utc("2026-03-02T10:00:00.5Z"),
		"2026-03-02T10:00:00+0100":        utc("2026-03-02T09:00:00Z"),
		"2026-03-02T10:00:00+01":          utc("2026-03-02T09:00:00Z"),
		"2026-03-02T10:00:00.1234567891Z": utc("2026-03-02T10:00:00.123456789Z"),
		"2016-12-31T23:59:60Z":            utc("2016-12-31T23:59:59.999999999Z"), // leap second
	}
	for in, want := range good {
		got, err := ParseTimestamp(in)
		if err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("ParseTimestamp(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	naive := []string{"2026-03-02T10:00:00", "2026-03-02 10:00", "2026-03-02", "2026-03-02T10:00:00.5"}
	for _, in := range naive {
		if _, err := ParseTimestamp(in); err != ErrTimezoneMissing {
			t.Errorf("ParseTimestamp(%q) = %v, want ErrTimezoneMissing", in, err)
		}
	}
	bad := []string{"", "yesterday", "2026-02-30T10:00:00Z", "2026-13-01T00:00:00Z", "2026-03-02T24:00:00Z",
		"2026-03-02T10:00:00+25:00", "2026-03-02T10:00:00Zjunk", "2026-03-02X10:00:00Z", "2026-3-2T10:00:00Z",
		"2026-03-02T10:00:00.Z", "2026-03-02T10:00:00 UTC", "1772442000", "Mon, 02 Mar 2026 10:00:00 +0100"}
	for _, in := range bad {
		if _, err := ParseTimestamp(in); err != ErrTimestamp {
			t.Errorf("ParseTimestamp(%q) = %v, want ErrTimestamp", in, err)
		}
	}
}

// FuzzParseTimestamp: never panics; whatever parses is UTC and agrees with
// the standard library where the standard library understands the input.
func FuzzParseTimestamp(f *testing.F) {
	for _, s := range []string{"2026-03-02T10:00:00Z", "2026-03-02T10:00+01:00", "2026-03-02 10:00:00.123-05:30", "2026-03-02T10:00:00", "2016-12-31T23:59:60Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s)
		if err != nil {
			if err != ErrTimestamp && err != ErrTimezoneMissing {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: not UTC", s)
		}
		if std, e := time.Parse(time.RFC3339Nano, s); e == nil && std.Second() != 60 && !std.Equal(got) {
			t.Fatalf("%q: %v, time.Parse says %v", s, got, std)
		}
	})
}
