package logscan

import (
	"bytes"
	"strconv"
	"time"
)

// journald's export format (journalctl -o export; "Journal Export Format",
// https://systemd.io/JOURNAL_EXPORT_FORMATS/): an entry is a run of fields
// ended by an empty line. A field is "NAME=value\n", or, for a value that
// is not plain text, "NAME\n" followed by its length as a 64-bit
// little-endian integer, the bytes, and "\n". Field names are upper-case
// letters, digits and underscores. Of an entry, __REALTIME_TIMESTAMP
// (microseconds since the epoch, UTC), SYSLOG_IDENTIFIER (or _COMM),
// _HOSTNAME, _PID and MESSAGE are read; the entry is then read as the line
// journalctl -o short-iso-precise would print for it.

// journalEntry gathers the fields of one entry.
type journalEntry struct {
	active   bool
	realtime int64 // µs; -1 when absent
	ident    []byte
	comm     []byte
	host     []byte
	pid      []byte
	message  []byte
	bad      bool // a field that could not be read
}

func (j *journalEntry) reset() {
	j.active, j.realtime, j.bad = false, -1, false
	j.ident, j.comm, j.host, j.pid, j.message = j.ident[:0], j.comm[:0], j.host[:0], j.pid[:0], j.message[:0]
}

// isFieldName reports whether b is a journal field name.
func isFieldName(b []byte) bool {
	if len(b) == 0 || len(b) > 64 || isDigit(b[0]) {
		return false
	}
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// exportField splits "NAME=value" when line is a text field of the export
// format.
func exportField(line []byte) (name, value []byte, ok bool) {
	eq := bytes.IndexByte(line[:min(len(line), 65)], '=')
	if eq < 1 || !isFieldName(line[:eq]) {
		return nil, nil, false
	}
	return line[:eq], line[eq+1:], true
}

// field stores a field's value (copied: the caller's buffer moves on).
func (j *journalEntry) field(name, value []byte) {
	j.active = true
	switch string(name) {
	case "__REALTIME_TIMESTAMP":
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 {
			j.bad = true
			return
		}
		j.realtime = n
	case "SYSLOG_IDENTIFIER":
		j.ident = append(j.ident[:0], value...)
	case "_COMM":
		j.comm = append(j.comm[:0], value...)
	case "_HOSTNAME":
		j.host = append(j.host[:0], value...)
	case "_PID":
		j.pid = append(j.pid[:0], value...)
	case "MESSAGE":
		j.message = append(j.message[:0], trimEOL(value)...)
	}
}

// wanted reports whether a field's value is read at all (binary fields of
// other names are skipped without being held).
func (j *journalEntry) wanted(name []byte) bool {
	switch string(name) {
	case "__REALTIME_TIMESTAMP", "SYSLOG_IDENTIFIER", "_COMM", "_HOSTNAME", "_PID", "MESSAGE":
		return true
	}
	return false
}

// journalEnd reads the entry gathered in j, as one line.
func (p *Parser) journalEnd(j *journalEntry, ev *Event) Kind {
	defer j.reset()
	ev.reset(nil)
	if j.bad || j.realtime < 0 || j.realtime > maxUnix*1e6 {
		return Unreadable
	}
	ident := j.ident
	if len(ident) == 0 {
		ident = j.comm
	}
	if len(j.message) == 0 {
		return Noise
	}
	t := time.UnixMicro(j.realtime).In(p.loc())
	b := t.AppendFormat(p.jbuf[:0], "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, ' ')
	if len(j.host) > 0 {
		b = append(b, j.host...)
		b = append(b, ' ')
	}
	b = append(b, ident...)
	if len(j.pid) > 0 {
		b = append(b, '[')
		b = append(b, j.pid...)
		b = append(b, ']')
	}
	b = append(b, ": "...)
	msgAt := len(b)
	b = append(b, j.message...)
	p.jbuf = b
	ev.reset(b)
	ev.stamp = stamp{zone: zoneUnix, unix: j.realtime / 1e6, nsec: int(j.realtime%1e6) * 1000}
	return p.settle(p.message(ident, b[msgAt:], ev), ev)
}
