package logscan

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime"
	"time"
)

// Options tune a scan.
type Options struct {
	// Location is the zone of times written without one; nil is time.Local.
	Location *time.Location
	// Now is the reference of year inference for every input; zero means
	// each file's modification time (standard input: the time it is read).
	Now time.Time
	// HTTPStatus: see Parser.HTTPStatus.
	HTTPStatus *StatusSet
	// Workers is how many goroutines parse a file's lines; 0 means
	// GOMAXPROCS, 1 a plain sequential read (see parallel.go).
	Workers int

	blockSize int // bytes per block of a parallel scan; 0: defaultBlockSize (tests make it small)
}

// FileStats counts what one input held.
type FileStats struct {
	Name string
	// Lines counts lines (a journal export entry is one line).
	Lines int64
	// Events counts events, from any address (a line may stand for
	// several: Event.Count).
	Events int64
	// Unreadable counts lines of no known format, or whose time or
	// address does not read.
	Unreadable int64
	// Err is why the input could not be read (whole or to its end).
	Err error
}

// maxLine bounds a line: a longer one is unreadable, skipped without being
// held.
const maxLine = 256 << 10

// maxJournalField bounds a binary field of the journal export format.
const maxJournalField = 1 << 20

// ScanFile reads the named file ("-" for standard input) into c.
func ScanFile(name string, opt Options, c *Collector) FileStats {
	if name == "-" {
		ref := opt.Now
		if ref.IsZero() {
			ref = time.Now()
		}
		st := Scan(os.Stdin, "-", ref, opt, c)
		st.Name = "standard input"
		return st
	}
	f, err := os.Open(name)
	if err != nil {
		return FileStats{Name: name, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileStats{Name: name, Err: err}
	}
	if fi.IsDir() {
		return FileStats{Name: name, Err: errors.New("is a directory: name the log files")}
	}
	ref := opt.Now
	if ref.IsZero() {
		ref = fi.ModTime()
	}
	return Scan(f, name, ref, opt, c)
}

// Magic numbers of what a log file may be compressed with.
var (
	magicGzip    = []byte{0x1f, 0x8b}
	magicBzip2   = []byte("BZh")
	magicZstd    = []byte{0x28, 0xb5, 0x2f, 0xfd}
	magicXz      = []byte{0xfd, '7', 'z', 'X', 'Z', 0}
	magicJournal = []byte("LPKSHHRH") // systemd's binary journal file
)

// Scan reads r into c; ref is the reference of year inference. gzip and
// bzip2 input is recognised by its magic bytes and decompressed.
func Scan(r io.Reader, name string, ref time.Time, opt Options, c *Collector) FileStats {
	st := FileStats{Name: name}
	br := bufio.NewReaderSize(r, maxLine)
	head, _ := br.Peek(8)
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			st.Err = fmt.Errorf("gzip: %w", err)
			return st
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, maxLine)
	case bytes.HasPrefix(head, magicBzip2):
		br = bufio.NewReaderSize(bzip2.NewReader(br), maxLine)
	case bytes.HasPrefix(head, magicZstd):
		st.Err = errors.New("zstd-compressed: decompress it first (zstd -dc FILE | abusedesk report scan -)")
		return st
	case bytes.HasPrefix(head, magicXz):
		st.Err = errors.New("xz-compressed: decompress it first (xz -dc FILE | abusedesk report scan -)")
		return st
	case bytes.HasPrefix(head, magicJournal):
		st.Err = errors.New("a binary journal file: export it first (journalctl -o export --file FILE | abusedesk report scan -)")
		return st
	}
	p := &Parser{Location: opt.Location, Reference: ref, HTTPStatus: opt.HTTPStatus}
	s := &fileScan{p: p, c: c, st: &st}
	s.j.reset()
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if workers > 1 && !startsExport(br) {
		st.Err = s.parallel(br, workers, opt)
	} else {
		st.Err = s.run(br)
	}
	return st
}

// startsExport reports whether the input starts as journalctl -o export
// writes it: such a stream is read in order (its binary fields may hold
// line ends).
func startsExport(br *bufio.Reader) bool {
	head, _ := br.Peek(80)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	_, _, ok := exportField(head)
	return ok
}

// fileScan is the reading of one input.
type fileScan struct {
	p  *Parser
	c  *Collector
	st *FileStats
	ev Event
	j  journalEntry

	// The last line, for syslogd's "last message repeated N times".
	lastAbuse bool
	lastAddr  netip.Addr
}

func (s *fileScan) run(br *bufio.Reader) error {
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than maxLine: skip it whole.
			for err == bufio.ErrBufferFull {
				_, err = br.ReadSlice('\n')
			}
			s.st.Lines++
			s.st.Unreadable++
			s.lastAbuse = false
			if err == io.EOF {
				return s.end()
			}
			if err != nil {
				return s.fail(err)
			}
			continue
		}
		if len(line) == 0 && err == io.EOF {
			return s.end()
		}
		if err != nil && err != io.EOF {
			if len(line) > 0 { // cut short: unreadable
				s.st.Lines++
				s.st.Unreadable++
			}
			return s.fail(err)
		}
		s.line(br, line)
		if err == io.EOF {
			return s.end()
		}
	}
}

func (s *fileScan) fail(err error) error {
	s.end()
	return err
}

// end finishes an export entry the input stopped in.
func (s *fileScan) end() error {
	if s.j.active {
		s.entry()
	}
	return nil
}

// maybeExport reports whether a line may be a field of the journal export
// format (and so needs the export state).
func maybeExport(body []byte) bool {
	if len(body) <= 2 || !(body[0] == '_' || body[0] >= 'A' && body[0] <= 'Z') {
		return false
	}
	_, _, ok := exportField(body)
	return ok
}

func (s *fileScan) line(br *bufio.Reader, line []byte) {
	body := trimEOL(line)
	// The journal export format: fields, then an empty line.
	if s.j.active || maybeExport(body) {
		if len(body) == 0 {
			s.entry()
			return
		}
		if name, value, ok := exportField(body); ok {
			s.j.field(name, value)
			return
		}
		if s.j.active && isFieldName(body) && len(line) > len(body) {
			s.binaryField(br, body)
			return
		}
		if s.j.active {
			// Not a field: the entry ended without its empty line.
			s.entry()
		}
	}
	s.st.Lines++
	k := s.p.ParseLine(line, &s.ev)
	s.result(k)
}

// binaryField reads a field written as its name, a 64-bit little-endian
// length, the bytes and a newline.
func (s *fileScan) binaryField(br *bufio.Reader, name []byte) {
	// name is in br's buffer, which the reads below overwrite.
	var nb [64]byte
	name = nb[:copy(nb[:], name)]
	var lb [8]byte
	if _, err := io.ReadFull(br, lb[:]); err != nil {
		s.j.bad = true
		return
	}
	n := binary.LittleEndian.Uint64(lb[:])
	want := s.j.wanted(name)
	if n > maxJournalField || !want {
		if _, err := br.Discard(int(min(n, 1<<40))); err != nil {
			s.j.bad = true
			return
		}
		if want {
			s.j.bad = true
		}
	} else {
		v := make([]byte, n)
		if _, err := io.ReadFull(br, v); err != nil {
			s.j.bad = true
			return
		}
		s.j.field(name, v)
	}
	if c, err := br.ReadByte(); err != nil || c != '\n' {
		s.j.bad = true
	}
}

func (s *fileScan) entry() {
	s.st.Lines++
	k := s.p.journalEnd(&s.j, &s.ev)
	s.result(k)
}

func (s *fileScan) result(k Kind) {
	ev := &s.ev
	switch k {
	case Abuse:
		s.st.Events += int64(ev.Count)
		s.c.add(s.p, ev)
		s.lastAbuse, s.lastAddr = true, ev.Addr
		return
	case Unreadable:
		s.st.Unreadable++
	case LoggedIn:
		s.c.loggedIn(ev.Addr, s.c.ours(ev.Addr))
	case RepeatLast:
		if s.lastAbuse {
			s.st.Events += int64(ev.Count)
			s.c.repeat(s.lastAddr, ev.Count)
		}
		return // the line before stays the last one
	}
	s.lastAbuse = false
}
