package bulkclient

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// NewProgress shows an upload on w: a bar redrawn in place when w is a
// terminal, plain lines otherwise (a log, a pipe), at most every 10% or
// every 10 seconds.
func NewProgress(w io.Writer, terminal bool) Progress {
	return &progress{w: w, tty: terminal, now: time.Now}
}

type progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	name  string
	total int64
	sent  int64
	start time.Time
	last  time.Time // the last drawing
	step  int64     // the last tenth told (plain lines)
	drawn bool      // a bar is on the line
}

func (p *progress) Start(n int, name string, total int64) {
	p.name, p.total, p.sent, p.step = name, total, 0, 0
	p.start = p.now()
	p.last = p.start
	attempt := ""
	if n > 1 {
		attempt = fmt.Sprintf(" (attempt %d)", n)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "uploading %s, %s%s\n", name, mb(total), attempt)
		return
	}
	p.clear()
	if n > 1 {
		fmt.Fprintf(p.w, "attempt %d\n", n)
	}
	p.draw(true)
}

func (p *progress) Sent(n int64) {
	p.sent = n
	now := p.now()
	if p.tty {
		if now.Sub(p.last) >= 100*time.Millisecond || n == p.total {
			p.draw(false)
		}
		return
	}
	tenth := int64(10)
	if p.total > 0 {
		tenth = n * 10 / p.total
	}
	if tenth > p.step && (tenth == 10 || now.Sub(p.last) >= time.Second) || now.Sub(p.last) >= 10*time.Second {
		p.step = tenth
		p.last = now
		fmt.Fprintf(p.w, "uploading %s: %s of %s sent (%d%%)\n", p.name, mb(n), mb(p.total), pct(n, p.total))
	}
}

func (p *progress) draw(force bool) {
	now := p.now()
	p.last = now
	const width = 30
	fill := width
	if p.total > 0 {
		fill = int(p.sent * width / p.total)
	}
	rate := ""
	if el := now.Sub(p.start).Seconds(); el > 0.2 && p.sent > 0 {
		bps := float64(p.sent) / el
		rate = fmt.Sprintf("  %s/s", mb(int64(bps)))
		if p.sent < p.total {
			rate += fmt.Sprintf("  %s left", (time.Duration(float64(p.total-p.sent)/bps) * time.Second).Round(time.Second))
		}
	}
	fmt.Fprintf(p.w, "\r\033[K%s [%s%s] %3d%%  %s / %s%s", p.name, strings.Repeat("#", fill), strings.Repeat(".", width-fill),
		pct(p.sent, p.total), mb(p.sent), mb(p.total), rate)
	p.drawn = true
}

func (p *progress) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\033[K")
		p.drawn = false
	}
}

func (p *progress) Waiting() {
	if p.tty {
		p.draw(true)
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
	fmt.Fprintln(p.w, "sent; the desk is checking and storing the rows…")
}

func (p *progress) Retry(reason string, wait time.Duration) {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
	fmt.Fprintf(p.w, "%s; retrying in %s\n", reason, wait.Round(time.Second))
}

func (p *progress) Done() {
	if p.tty && p.drawn {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
}

func pct(n, total int64) int64 {
	if total <= 0 {
		return 100
	}
	return n * 100 / total
}

// mb writes a size in MB (or KB below one MB), as disks count.
func mb(n int64) string {
	if n < 1_000_000 {
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
