package logscan

import (
	"bytes"
)

// Mail servers: authentication failures, the password guessing of
// SMTP-AUTH, IMAP and POP3.
//
// Postfix's smtpd (through syslog):
//
//	postfix/submission/smtpd[1234]: warning: unknown[203.0.113.7]: SASL LOGIN authentication failed: UGFzc3dvcmQ6
//
// Dovecot's login processes, through syslog ("dovecot: imap-login: …") or
// in its own log_path file ("imap-login: Info: …"):
//
//	imap-login: Disconnected (auth failed, 3 attempts in 15 secs): user=<admin>, method=PLAIN, rip=203.0.113.7, lip=198.51.100.20, TLS, session=<…>
//
// (the line stands for its N attempts; Dovecot 2.3.14+ writes "Login
// aborted: … (auth failed, N attempts …)"). Exim's mainlog, or exim
// through syslog:
//
//	2026-03-02 10:00:00 dovecot_login authenticator failed for (User) [203.0.113.7]:51234 I=[198.51.100.20]:587: 535 Incorrect authentication data (set_id=admin)
//
// The client's user name and HELO are its own text: Dovecot's rip= is read
// after the user= field (the last one), exim's address as the last
// bracketed one before the SMTP code, which follows the first ": " (a HELO
// has no spaces).

var (
	pfSASL       = []byte("]: SASL ")
	pfFailed     = []byte(" authentication failed")
	pfLost       = []byte("Connection lost to authentication server")
	dcAuthFailed = []byte("(auth failed, ")
	dcRip        = []byte("rip=")
	dcLip        = []byte("lip=")
	eximFailed   = []byte(" authenticator failed for ")
	eximIface    = []byte(" I=[")
)

func (p *Parser) postfix(prog, msg []byte, ev *Event) Kind {
	i := bytes.Index(msg, pfSASL)
	if i < 0 {
		return Noise
	}
	rest := msg[i+len(pfSASL):]
	if !bytes.Contains(rest, pfFailed) {
		return Noise
	}
	if bytes.Contains(rest, pfLost) {
		return Noise // the server's own SASL daemon is down
	}
	lb := bytes.LastIndexByte(msg[:i], '[')
	if lb < 0 {
		return Unreadable
	}
	a, ok := parseAddr(msg[lb+1 : i])
	if !ok {
		return Unreadable
	}
	ev.Addr = a
	ev.Protocol = "smtp"
	// The master.cf service names of the standard ports.
	switch {
	case bytes.HasPrefix(prog, []byte("postfix/submission/")):
		ev.TargetPort = 587
	case bytes.HasPrefix(prog, []byte("postfix/smtps/")), bytes.HasPrefix(prog, []byte("postfix/submissions/")):
		ev.TargetPort = 465
	case string(prog) == "postfix/smtpd":
		ev.TargetPort = 25
	}
	return Abuse
}

func (p *Parser) dovecot(prog, msg []byte, ev *Event) Kind {
	service := prog
	if string(prog) == "dovecot" {
		c := bytes.Index(msg, []byte(": "))
		if c < 0 {
			return Noise
		}
		service, msg = msg[:c], msg[c+2:]
	}
	if !bytes.HasSuffix(service, []byte("-login")) {
		return Noise // auth workers repeat what the login process says
	}
	i := bytes.Index(msg, dcAuthFailed)
	if i < 0 {
		return Noise
	}
	n := 0
	for j := i + len(dcAuthFailed); j < len(msg) && isDigit(msg[j]) && n < 1_000_000; j++ {
		n = n*10 + int(msg[j]-'0')
	}
	if n < 1 {
		n = 1
	}
	r := bytes.LastIndex(msg, dcRip)
	if r < 0 || (r > 0 && msg[r-1] != ' ') {
		return Unreadable
	}
	a, ok := parseAddr(fieldValue(msg[r+len(dcRip):]))
	if !ok {
		return Unreadable
	}
	ev.Addr = a
	ev.Count = n
	if l := bytes.Index(msg[r:], dcLip); l >= 0 {
		if v := fieldValue(msg[r+l+len(dcLip):]); len(v) > 0 {
			if _, ok := parseAddr(v); ok {
				ev.Target = v
			}
		}
	}
	switch string(service[:len(service)-len("-login")]) {
	case "imap":
		ev.Protocol = "imap"
	case "pop3":
		ev.Protocol = "pop3"
	case "submission":
		ev.Protocol = "smtp"
	case "managesieve":
		ev.Protocol = "sieve"
	}
	return Abuse
}

// fieldValue is a Dovecot "key=value" value: up to the next comma.
func fieldValue(b []byte) []byte {
	if i := bytes.IndexByte(b, ','); i >= 0 {
		return b[:i]
	}
	return b
}

// eximLine reads an exim mainlog line after its date and time: an optional
// zone (log_timezone), an optional "[pid]" (log_selector +pid), then the
// message.
func (p *Parser) eximLine(b []byte, ev *Event) Kind {
	if len(b) > 6 && (b[0] == '+' || b[0] == '-') && b[5] == ' ' {
		if _, ok := zone(b, 0, &ev.stamp); ok {
			b = b[6:]
		}
	}
	if len(b) > 2 && b[0] == '[' {
		if e := bytes.IndexByte(b, ']'); e > 0 && e+1 < len(b) && b[e+1] == ' ' {
			if _, ok := atoi(b[1:e]); ok {
				b = b[e+2:]
			}
		}
	}
	return p.exim(b, ev)
}

func (p *Parser) exim(msg []byte, ev *Event) Kind {
	i := bytes.Index(msg, eximFailed)
	if i < 0 {
		return Noise
	}
	seg := msg[i+len(eximFailed):]
	// The SMTP code after the first ": ".
	anchor := -1
	for off := 0; ; {
		j := bytes.Index(seg[off:], []byte(": "))
		if j < 0 {
			break
		}
		j += off
		if j+5 <= len(seg) && isDigit(seg[j+2]) && isDigit(seg[j+3]) && isDigit(seg[j+4]) {
			anchor = j
			break
		}
		off = j + 2
	}
	if anchor < 0 {
		return Unreadable
	}
	part := seg[:anchor]
	if k := bytes.Index(part, eximIface); k >= 0 {
		iface := part[k+len(eximIface)-1:] // "[198.51.100.20]:587"
		if _, port, ok := parseHostPort(iface); ok {
			ev.Target = iface[1:bytes.IndexByte(iface, ']')]
			ev.TargetPort = port
		}
		part = part[:k]
	}
	rb := bytes.LastIndexByte(part, ']')
	if rb < 0 {
		return Unreadable
	}
	lb := bytes.LastIndexByte(part[:rb], '[')
	if lb < 0 {
		return Unreadable
	}
	a, port, ok := parseHostPort(part[lb:])
	if !ok {
		return Unreadable
	}
	ev.Addr, ev.SourcePort = a, port
	ev.Protocol = "smtp"
	return Abuse
}
