package logscan

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	"abusedesk/internal/attribution"
)

// benchLog is an auth.log of about n bytes under SSH attack from 20,000
// addresses, a quarter of them in benchSpace (the mix of bench scan).
func benchLog(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	pool := make([]string, 20000)
	for i := range pool {
		if i%4 == 0 {
			pool[i] = netip.AddrFrom4([4]byte{52, byte(rng.IntN(64)), byte(rng.IntN(256)), byte(1 + rng.IntN(254))}).String()
		} else {
			pool[i] = netip.AddrFrom4([4]byte{byte(60 + rng.IntN(160)), byte(rng.IntN(256)), byte(rng.IntN(256)), 1}).String()
		}
	}
	var b bytes.Buffer
	t := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	for pid := 1000; b.Len() < n; pid++ {
		t = t.Add(300 * time.Millisecond)
		ts := t.Format(time.Stamp)
		ip := pool[rng.IntN(len(pool))]
		port := 1024 + rng.IntN(60000)
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Invalid user admin from %s port %d\n", ts, pid, ip, port)
			fmt.Fprintf(&b, "%s web1 sshd[%d]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s\n", ts, pid, ip)
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Failed password for invalid user admin from %s port %d ssh2\n", ts, pid, ip, port)
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Disconnected from invalid user admin %s port %d [preauth]\n", ts, pid, ip, port)
		case 1:
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Failed password for root from %s port %d ssh2\n", ts, pid, ip, port)
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Connection closed by authenticating user root %s port %d [preauth]\n", ts, pid, ip, port)
		case 2:
			fmt.Fprintf(&b, "%s web1 CRON[%d]: pam_unix(cron:session): session opened for user root(uid=0) by (uid=0)\n", ts, pid)
			fmt.Fprintf(&b, "%s web1 CRON[%d]: pam_unix(cron:session): session closed for user root\n", ts, pid)
		case 3:
			fmt.Fprintf(&b, "%s web1 sshd[%d]: Connection closed by %s port %d [preauth]\n", ts, pid, ip, port)
		}
	}
	return b.Bytes()
}

func benchSpace() *attribution.AddressSpace {
	var rs []attribution.Range
	for i := range 64 {
		rs = append(rs, attribution.Range{Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{52, byte(i), 0, 0}), 16), Service: "EC2"})
	}
	return attribution.NewAddressSpace(rs)
}

func BenchmarkScan(b *testing.B) {
	data := benchLog(32 << 20)
	space := benchSpace()
	ref := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c := &Collector{Space: space}
		st := Scan(bytes.NewReader(data), "bench", ref, Options{Location: time.UTC}, c)
		if st.Unreadable != 0 || st.Events == 0 {
			b.Fatalf("%+v", st)
		}
	}
}

func BenchmarkParseLine(b *testing.B) {
	data := benchLog(8 << 20)
	lines := bytes.Split(data, []byte("\n"))
	p := &Parser{Location: time.UTC, Reference: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	var ev Event
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		for _, l := range lines {
			p.ParseLine(l, &ev)
		}
	}
}
