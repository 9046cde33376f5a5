package logscan

import (
	"bufio"
	"bytes"
	"io"
	"slices"
	"time"
)

// A parallel scan cuts the input into blocks of whole lines. Workers parse
// the blocks' lines (the formats, the addresses, the lookup in the address
// space, the times: everything that depends on one line only), and the
// scanning goroutine takes the blocks in their order and does what depends
// on the lines before: sshd's connections (Parser.settle), syslogd's "last
// message repeated", the grouping by address. So the result is the
// sequential one, whatever the number of workers.
//
// The journal export format is read in order: its binary fields may hold
// line ends, which a cut between blocks would break. A block with a line
// that may be an export field stops the parallel reading there; the rest of
// the input is then read as a sequential scan does.
//
// Memory: at most 2×workers+2 blocks are in flight.

const defaultBlockSize = 1 << 20

// rec is a line a worker found something in.
type rec struct {
	ev   Event
	kind Kind
	ours bool      // ev.Addr is in the address space
	t    time.Time // the time, for an event of ours
	// prevRec says, for RepeatLast, whether the line before it is the rec
	// before it (the first line of a block: whether the last line of the
	// block before made a rec).
	prevRec bool
}

type block struct {
	seq  int
	buf  []byte
	recs []rec
	long bool // a line longer than maxLine, skipped by the reader: one unreadable line
	cut  bool // the input failed in the middle of a line after buf: one unreadable line

	lines, unreadable int64
	lastRec           bool // the last line made a rec
	export            int  // the offset of a possible export field line, or -1
	err               error
}

func (s *fileScan) parallel(br *bufio.Reader, workers int, opt Options) error {
	size := opt.blockSize
	if size <= 0 {
		size = defaultBlockSize
	}
	inflight := 2*workers + 2
	free := make(chan *block, inflight)
	for range inflight {
		free <- &block{}
	}
	todo := make(chan *block, inflight)
	done := make(chan *block, inflight)
	stop := make(chan struct{})
	var carry []byte          // read past the last line end of the last block
	sent := make(chan int, 1) // how many blocks were sent, when the reader ends
	go func() {
		n := 0
		defer func() { close(todo); sent <- n }()
		for {
			var b *block
			select {
			case b = <-free:
			case <-stop:
				return
			}
			b.seq, b.err, b.long, b.cut, b.recs = n, nil, false, false, b.recs[:0]
			b.buf = append(b.buf[:0], carry...)
			carry = carry[:0]
			eof := readBlock(br, b, size, &carry)
			n++
			todo <- b
			if eof {
				return
			}
		}
	}()
	for range workers {
		go func() {
			p := &Parser{Location: s.p.Location, Reference: s.p.Reference, HTTPStatus: s.p.HTTPStatus}
			for b := range todo {
				s.work(p, b)
				done <- b
			}
		}()
	}

	// The blocks, in order.
	pending := map[int]*block{}
	next, total := 0, -1
	var tail [][]byte // after an export field: the bytes still to read, in order
	var err error
	cut := false // the input failed in the middle of the tail's last line
	for total < 0 || next < total {
		b := pending[next]
		if b == nil {
			select {
			case d := <-done:
				pending[d.seq] = d
			case total = <-sent:
			}
			continue
		}
		delete(pending, next)
		next++
		switch {
		case tail != nil:
			tail = append(tail, bytes.Clone(b.buf))
			cut = b.cut
		case b.long:
			s.st.Lines++
			s.st.Unreadable++
			s.lastAbuse = false
		default:
			s.merge(b)
			if b.cut && b.export < 0 {
				s.st.Lines++
				s.st.Unreadable++
			}
			cut = b.cut && b.export >= 0
			if b.export >= 0 {
				tail = [][]byte{bytes.Clone(b.buf[b.export:])}
				close(stop)
			}
		}
		if b.err != nil && err == nil {
			err = b.err
		}
		free <- b
	}
	if tail == nil {
		return err
	}
	tail = append(tail, carry)
	rs := make([]io.Reader, 0, len(tail)+1)
	for _, t := range tail {
		rs = append(rs, bytes.NewReader(t))
	}
	if err == nil {
		rs = append(rs, br)
	}
	if e := s.run(bufio.NewReaderSize(io.MultiReader(rs...), maxLine)); e != nil && err == nil {
		err = e
	}
	if cut {
		s.st.Lines++
		s.st.Unreadable++
	}
	return err
}

// readBlock reads into b (which holds the carry) at least size bytes and up
// to a line end; what follows that line end goes to carry. A line longer
// than maxLine is skipped to its end (b.long). It reports whether the input
// ended.
func readBlock(br *bufio.Reader, b *block, size int, carry *[]byte) bool {
	for {
		n := len(b.buf)
		b.buf = slices.Grow(b.buf, size)[:n+size]
		m, err := fill(br, b.buf[n:])
		b.buf = b.buf[:n+m]
		if err != nil {
			if err != io.EOF {
				// A decompressor's io.ErrUnexpectedEOF included: the
				// line cut short is unreadable (as in run).
				b.err = err
				i := bytes.LastIndexByte(b.buf, '\n')
				b.cut = i+1 < len(b.buf)
				b.buf = b.buf[:i+1]
			}
			return true
		}
		// The carry and what was read before hold no line end.
		if i := bytes.LastIndexByte(b.buf[n:], '\n'); i >= 0 {
			i += n
			*carry = append(*carry, b.buf[i+1:]...)
			b.buf = b.buf[:i+1]
			return false
		}
		if len(b.buf) > maxLine {
			b.long, b.buf = true, b.buf[:0]
			for {
				_, err := br.ReadSlice('\n')
				switch err {
				case nil:
					return false
				case bufio.ErrBufferFull:
					continue
				case io.EOF:
					return true
				default:
					b.err = err
					return true
				}
			}
		}
	}
}

// fill reads len(p) bytes unless the input ends or fails first (io.ReadFull
// without its reading of an error as a short input).
func fill(r io.Reader, p []byte) (int, error) {
	n, empty := 0, 0
	for n < len(p) {
		m, err := r.Read(p[n:])
		n += m
		if err != nil {
			return n, err
		}
		if m > 0 {
			empty = 0
		} else if empty++; empty == 100 { // as bufio does: a reader that never gives
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// work parses the lines of b with p (a worker's own parser).
func (s *fileScan) work(p *Parser, b *block) {
	b.lines, b.unreadable, b.lastRec, b.export = 0, 0, false, -1
	if b.long {
		return
	}
	buf := b.buf
	prev := true // the first line: as the block before ends
	for off := 0; off < len(buf); {
		end := bytes.IndexByte(buf[off:], '\n')
		if end < 0 {
			end = len(buf)
		} else {
			end += off + 1
		}
		line := buf[off:end]
		if maybeExport(trimEOL(line)) {
			b.export = off
			b.lastRec = prev
			return
		}
		off = end
		b.lines++
		if len(line) > maxLine {
			b.unreadable++
			prev = false
			continue
		}
		b.recs = append(b.recs, rec{})
		r := &b.recs[len(b.recs)-1]
		k := p.parse(line, &r.ev)
		switch k {
		case Abuse, LoggedIn:
			r.kind = k
			r.ours = s.c.ours(r.ev.Addr)
			if r.ours && k == Abuse {
				r.t = p.Time(&r.ev)
			}
		case RepeatLast:
			r.kind, r.prevRec = k, prev
		case Unreadable:
			b.unreadable++
			fallthrough
		default:
			b.recs = b.recs[:len(b.recs)-1]
			prev = false
			continue
		}
		prev = true
	}
	b.lastRec = prev
}

// merge takes a parsed block, in order.
func (s *fileScan) merge(b *block) {
	s.st.Lines += b.lines
	s.st.Unreadable += b.unreadable
	for i := range b.recs {
		r := &b.recs[i]
		ev := &r.ev
		switch r.kind {
		case Abuse:
			if s.p.settle(Abuse, ev) != Abuse {
				s.lastAbuse = false
				continue
			}
			s.st.Events += int64(ev.Count)
			s.c.addParsed(ev, r.ours, r.t)
			s.lastAbuse, s.lastAddr = true, ev.Addr
		case LoggedIn:
			s.c.loggedIn(ev.Addr, r.ours)
			s.lastAbuse = false
		case RepeatLast:
			if s.lastAbuse && r.prevRec {
				s.st.Events += int64(ev.Count)
				s.c.repeat(s.lastAddr, ev.Count)
			}
		}
	}
	if !b.lastRec {
		s.lastAbuse = false
	}
}
