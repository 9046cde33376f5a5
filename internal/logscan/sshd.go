package logscan

import (
	"bytes"
	"net/netip"
)

// OpenSSH's sshd (and sshd-session, its per-connection program since 9.8)
// logs through syslog; the messages read here are those of auth.c
// (auth_log: "Failed …", "Accepted …", "Invalid user …"), auth2.c,
// sshd.c/sshd-session.c and packet.c (the pre-authentication
// disconnections). The lines counted follow fail2ban's sshd filter (mode
// "normal", plus the "aggressive" probes that leave nothing else):
//
//   - every "Failed <method> for [invalid user ]U from IP port P" is one
//     authentication attempt;
//   - "Invalid user U from IP port P" opens a connection to an unknown
//     account: one event, which the first "Failed … for invalid user" of the
//     same connection (address and port) then stands for (the same attempt,
//     not a second one), so that N passwords tried are N events;
//   - the lines that close a connection before authentication
//     ("Connection closed by … [preauth]", "Received disconnect …
//     [preauth]", "Timeout before authentication", "Did not receive
//     identification string", "Unable to negotiate", "banner exchange …
//     invalid format", "maximum authentication attempts exceeded", "Too
//     many authentication failures") count once for a connection that
//     showed nothing else: a scanner, or a key-only server that never logs
//     "Failed".
//
// An attacker chooses the user name (and the disconnect reason, the client
// banner, the key exchange offer): the address is always read at the place
// sshd writes it, from the right of a user name and from the left of a
// client-supplied text, never from inside either.

var (
	sshFailed          = []byte("Failed ")
	sshInvalid         = []byte("Invalid user ")
	sshIllegal         = []byte("Illegal user ") // OpenSSH < 3.9
	sshAccepted        = []byte("Accepted ")
	sshBadProto        = []byte("Bad protocol version identification ")
	sshClosedBy        = []byte("Connection closed by ")
	sshResetBy         = []byte("Connection reset by ")
	sshDisconnected    = []byte("Disconnected from ")
	sshDisconnecting   = []byte("Disconnecting ")
	sshRecvDisconnect  = []byte("Received disconnect from ")
	sshTimeout         = []byte("Timeout before authentication for ")
	sshNoIdent         = []byte("Did not receive identification string from ")
	sshNegotiate       = []byte("Unable to negotiate with ")
	sshBanner          = []byte("banner exchange: Connection from ")
	sshMaxAuth         = []byte("maximum authentication attempts exceeded for ")
	sshPreauth         = []byte("[preauth]")
	sshFrom            = []byte(" from ")
	sshPort            = []byte(" port ")
	sshForInvalid      = []byte(" for invalid user ")
	sshTooManyFailures = []byte("Too many authentication failures")
)

// sshRole is what an sshd line is to its connection; whether it counts is
// decided by Parser.settle, in the order of the lines.
type sshRole uint8

const (
	sshNone           sshRole = iota // not an sshd event
	sshAttempt                       // always an event
	sshAttemptInvalid                // an attempt on an unknown account ("Failed … for invalid user")
	sshProvisional                   // an event the connection's first attempt stands for
	sshCloser                        // an event only for a connection that showed nothing else
)

func (p *Parser) sshd(msg []byte, ev *Event) Kind {
	ev.Protocol = "ssh"
	m := msg
	for _, pre := range [...]string{"error: ", "fatal: ", "PAM: "} {
		if len(m) >= len(pre) && string(m[:len(pre)]) == pre {
			m = m[len(pre):]
		}
	}
	if len(m) < 10 {
		return Noise
	}
	var (
		a    netip.Addr
		port = -1
		ok   bool
		role sshRole
	)
	// Most lines are PAM's and session chatter: one byte decides.
	switch m[0] {
	case 'F', 'I', 'A', 'B', 'C', 'D', 'R', 'T', 'U', 'b', 'm':
	default:
		return Noise
	}
	switch {
	case bytes.HasPrefix(m, sshFailed):
		a, port, ok = lastFrom(m)
		role = sshAttempt
		if bytes.Contains(m, sshForInvalid) {
			role = sshAttemptInvalid
		}
	case bytes.HasPrefix(m, sshInvalid), bytes.HasPrefix(m, sshIllegal):
		a, port, ok = lastFrom(m)
		role = sshProvisional
	case bytes.HasPrefix(m, sshBadProto):
		a, port, ok = lastFrom(m)
		role = sshAttempt
	case bytes.HasPrefix(m, sshAccepted):
		a, port, ok = lastFrom(m)
		if !ok {
			return Unreadable
		}
		ev.Addr, ev.SourcePort = a, port
		return LoggedIn
	case bytes.HasPrefix(m, sshClosedBy), bytes.HasPrefix(m, sshResetBy), bytes.HasPrefix(m, sshDisconnected):
		if !bytes.HasSuffix(m, sshPreauth) {
			return Noise // the end of a session that logged in
		}
		a, port, ok = beforeLastPort(m)
		role = sshCloser
	case bytes.HasPrefix(m, sshDisconnecting):
		if !bytes.Contains(m, sshTooManyFailures) {
			return Noise
		}
		a, port, ok = beforeLastPort(m)
		role = sshCloser
	case bytes.HasPrefix(m, sshMaxAuth):
		a, port, ok = lastFrom(m)
		role = sshCloser
	case bytes.HasPrefix(m, sshRecvDisconnect):
		if !bytes.HasSuffix(m, sshPreauth) {
			return Noise
		}
		a, port, ok = addrPortAt(m[len(sshRecvDisconnect):])
		role = sshCloser
	case bytes.HasPrefix(m, sshTimeout):
		a, port, ok = addrPortAt(m[len(sshTimeout):])
		role = sshCloser
	case bytes.HasPrefix(m, sshNoIdent):
		a, port, ok = addrPortAt(m[len(sshNoIdent):])
		role = sshCloser
	case bytes.HasPrefix(m, sshNegotiate):
		a, port, ok = addrPortAt(m[len(sshNegotiate):])
		role = sshCloser
	case bytes.HasPrefix(m, sshBanner):
		a, port, ok = addrPortAt(m[len(sshBanner):])
		role = sshCloser
	default:
		return Noise
	}
	if !ok {
		// An offending line whose address does not read (sshd with
		// UseDNS yes writes a host name): it cannot be reported.
		return Unreadable
	}
	ev.Addr, ev.SourcePort = a, port
	ev.role, ev.conn = role, connKey(a, port)
	return Abuse
}

// settle decides, in the order of the lines, whether an sshd line counts
// (see the roles above): k is what parse said.
func (p *Parser) settle(k Kind, ev *Event) Kind {
	if k != Abuse || ev.role == sshNone {
		return k
	}
	c := ev.conn
	known, prov := p.conns.lookup(c)
	switch ev.role {
	case sshAttemptInvalid:
		if known && prov {
			// The attempt the "Invalid user" line of the same
			// connection already counted.
			p.conns.set(c, false)
			return Noise
		}
		p.conns.set(c, false)
	case sshAttempt:
		p.conns.set(c, false)
	case sshProvisional:
		if known {
			return Noise
		}
		p.conns.set(c, true)
	case sshCloser:
		if known {
			return Noise
		}
		p.conns.set(c, false)
	}
	return Abuse
}

// lastFrom reads "IP[ port P]" after the last " from " of m: sshd writes the
// address after the user name, which may itself hold " from ".
func lastFrom(m []byte) (netip.Addr, int, bool) {
	i := lastIndex(m, sshFrom)
	if i < 0 {
		return netip.Addr{}, -1, false
	}
	return addrPortAt(m[i+len(sshFrom):])
}

// lastIndex is bytes.LastIndex for a short separator that starts with a
// byte rare in m (a space): a backward byte search, faster on log lines
// than bytes.LastIndex's Rabin-Karp.
func lastIndex(m, sep []byte) int {
	for end := len(m); ; {
		i := bytes.LastIndexByte(m[:end], sep[0])
		if i < 0 {
			return -1
		}
		if i+len(sep) <= len(m) && string(m[i:i+len(sep)]) == string(sep) {
			return i
		}
		end = i
	}
}

// beforeLastPort reads "… IP port P …" around the last " port " of m (the
// closing lines write "authenticating user U IP port P [preauth]").
func beforeLastPort(m []byte) (netip.Addr, int, bool) {
	i := lastIndex(m, sshPort)
	if i < 0 {
		return netip.Addr{}, -1, false
	}
	j := bytes.LastIndexByte(m[:i], ' ')
	a, ok := parseAddr(m[j+1 : i])
	if !ok {
		return netip.Addr{}, -1, false
	}
	return a, portAt(m[i+len(sshPort):]), true
}

// addrPortAt reads "IP" and an optional " port P" at the start of b.
func addrPortAt(b []byte) (netip.Addr, int, bool) {
	end := 0
	for end < len(b) && b[end] != ' ' && b[end] != ',' {
		end++
	}
	a, ok := parseAddr(b[:end])
	if !ok {
		return netip.Addr{}, -1, false
	}
	b = b[end:]
	if bytes.HasPrefix(b, sshPort) {
		return a, portAt(b[len(sshPort):]), true
	}
	return a, -1, true
}

// portAt reads the decimal port at the start of b, -1 if there is none.
func portAt(b []byte) int {
	n, i := 0, 0
	for ; i < len(b) && i < 6 && isDigit(b[i]); i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i == 0 || n > 65535 {
		return -1
	}
	return n
}
