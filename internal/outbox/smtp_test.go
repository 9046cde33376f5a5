package outbox_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"abusedesk/internal/mailsink"
	"abusedesk/internal/outbox"
)

func TestRelaySendAndReuse(t *testing.T) {
	sink := startSink(t, "127.0.0.1:0")
	addr := sink.Addr()
	r := &outbox.Relay{Addr: addr, Username: "desk", Password: "secret", Timeout: 10 * time.Second}
	defer r.Close()
	ctx := context.Background()
	raw := composeMail(1).Raw
	for i := range 3 {
		code, detail, err := r.Send(ctx, "abuse@desk.example", []string{"a@example.org"}, raw)
		if err != nil || code != 250 || !strings.HasPrefix(detail, "250 ") {
			t.Fatalf("send %d: %d %q %v", i, code, detail, err)
		}
	}
	if sink.Count() != 3 {
		t.Fatalf("sink got %d", sink.Count())
	}
	// The relay restarts: the kept connection is dead, and a new one is
	// made without failing the mail.
	sink.Close()
	sink2, err := mailsink.Start(addr, 10)
	if err != nil {
		t.Skipf("cannot listen again on %s: %v", addr, err)
	}
	defer sink2.Close()
	if _, _, err := r.Send(ctx, "abuse@desk.example", []string{"a@example.org"}, raw); err != nil {
		t.Fatalf("send after the relay restarted: %v", err)
	}
	if sink2.Count() != 1 {
		t.Errorf("new sink got %d", sink2.Count())
	}
}

func TestRelayErrors(t *testing.T) {
	ctx := context.Background()
	sink := startSink(t, "127.0.0.1:0")
	r := &outbox.Relay{Addr: sink.Addr(), Timeout: 10 * time.Second}
	defer r.Close()
	raw := composeMail(1).Raw
	for _, c := range []struct {
		code      int
		permanent bool
	}{{550, true}, {451, false}, {552, true}, {421, false}} {
		refuse(sink, c.code, -1)
		code, _, err := r.Send(ctx, "abuse@desk.example", []string{"a@example.org"}, raw)
		var se *outbox.SendError
		if !errors.As(err, &se) || se.Code != c.code || code != c.code || se.Permanent != c.permanent {
			t.Errorf("reply %d: %d, %#v", c.code, code, err)
		}
	}
	sink.SetReject(nil)
	if _, _, err := r.Send(ctx, "abuse@desk.example", []string{"a@example.org"}, raw); err != nil {
		t.Errorf("after refusals: %v", err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := &outbox.Relay{Addr: l.Addr().String(), Timeout: 10 * time.Second}
	l.Close()
	code, _, err := down.Send(ctx, "abuse@desk.example", []string{"a@example.org"}, raw)
	var se *outbox.SendError
	if !errors.As(err, &se) || se.Permanent || code != 0 || !strings.Contains(err.Error(), "connect") {
		t.Errorf("relay down: %d, %v", code, err)
	}

}

// A password never goes in clear text beyond this host.
func TestRelayNoClearTextPassword(t *testing.T) {
	var ip net.IP
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
			ip = n.IP
			break
		}
	}
	if ip == nil {
		t.Skip("no address but loopback")
	}
	sink, err := mailsink.Start(net.JoinHostPort(ip.String(), "0"), 10)
	if err != nil {
		t.Skip(err)
	}
	defer sink.Close()
	r := &outbox.Relay{Addr: sink.Addr(), Username: "u", Password: "p", Timeout: 10 * time.Second}
	defer r.Close()
	_, _, err = r.Send(context.Background(), "abuse@desk.example", []string{"a@example.org"}, composeMail(1).Raw)
	var se *outbox.SendError
	if !errors.As(err, &se) || se.Permanent || !strings.Contains(err.Error(), "without TLS") || sink.Count() != 0 {
		t.Errorf("AUTH without TLS to %s: %v", sink.Addr(), err)
	}
}
