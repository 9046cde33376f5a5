package csvreport

import (
	"fmt"
	"io"
	"strconv"
)

// genReader produces a bulk CSV of n rows on the fly: the file is never
// materialised, whatever n.
type genReader struct {
	n, i int
	full bool // all seven columns, not only ip,timestamp,log
	buf  []byte
	off  int
}

func newGen(n int, full bool) *genReader {
	g := &genReader{n: n, full: full}
	if full {
		g.buf = append(g.buf, "ip,timestamp,log,target,target_port,protocol,source_port\r\n"...)
	} else {
		g.buf = append(g.buf, "ip,timestamp,log\r\n"...)
	}
	return g
}

func (g *genReader) Read(p []byte) (int, error) {
	for g.off == len(g.buf) {
		if g.i >= g.n {
			return 0, io.EOF
		}
		g.buf, g.off = appendRow(g.buf[:0], g.i, g.full), 0
		g.i++
	}
	n := copy(p, g.buf[g.off:])
	g.off += n
	return n, nil
}

// appendRow writes row i: mostly IPv4, every eighth address IPv6, zones Z
// and +01:00, logs with and without quotes (a comma or a quote in the log
// makes the field quoted, as every CSV writer does).
func appendRow(b []byte, i int, full bool) []byte {
	var ip []byte
	if i%8 == 7 {
		ip = fmt.Appendf(nil, "2001:db8:%x::%x", i>>16, i&0xffff)
	} else {
		ip = fmt.Appendf(nil, "198.51.%d.%d", (i>>8)&0xff, i&0xff)
	}
	b = append(b, ip...)
	b = append(b, ',')
	b = fmt.Appendf(b, "2025-%02d-%02dT%02d:%02d:%02d", 1+i%12, 1+i%28, i%24, i%60, (i/60)%60)
	if i%2 == 0 {
		b = append(b, 'Z')
	} else {
		b = append(b, "+01:00"...)
	}
	b = append(b, ',')
	switch i % 4 {
	case 0:
		b = fmt.Appendf(b, "sshd[%d]: Failed password for root from %s port %d ssh2", 1000+i%30000, ip, 40000+i%20000)
	case 1:
		b = fmt.Appendf(b, `"sshd[%d]: Invalid user admin from %s, port %d"`, 1000+i%30000, ip, 40000+i%20000)
	case 2:
		b = fmt.Appendf(b, `"GET /wp-login.php HTTP/1.1"" 404 from %s"`, ip)
	case 3:
		b = fmt.Appendf(b, "SYN flood %d pps to port 443", 10000+i%50000)
	}
	if full {
		b = append(b, ",203.0.113.5,"...)
		b = strconv.AppendInt(b, int64([]int{22, 80, 443, 3389}[i%4]), 10)
		b = append(b, ",tcp,"...)
		b = strconv.AppendInt(b, int64(40000+i%20000), 10)
	}
	return append(b, '\r', '\n')
}

// genBytes materialises the generated file, for benchmarks that must not
// measure the generator.
func genBytes(n int, full bool) []byte {
	b, err := io.ReadAll(newGen(n, full))
	if err != nil {
		panic(err)
	}
	return b
}
