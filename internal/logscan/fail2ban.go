package logscan

import (
	"bytes"
)

// fail2ban's own log (logtarget = /var/log/fail2ban.log), Python logging's
// "%(asctime)s %(name)-24s[%(process)d]: %(levelname)-7s %(message)s" in
// local time:
//
//	2026-03-02 10:00:00,123 fail2ban.actions        [1234]: NOTICE  [sshd] Ban 203.0.113.7
//
// or the same message through syslog ("fail2ban.actions[1234]: NOTICE
// [sshd] Ban …"). A Ban is the event: fail2ban's decision, after its own
// count of failures. "Restore Ban" (bans reinstated at a restart), "Unban"
// and the filter's "Found" lines (the failures themselves, which the
// service's own log shows too) are not counted.

var (
	f2bBan     = []byte(" Ban ")
	f2bRestore = []byte("Restore")
)

func (p *Parser) fail2ban(rest []byte, ev *Event) Kind {
	return p.fail2banMsg(rest, ev)
}

func (p *Parser) fail2banMsg(msg []byte, ev *Event) Kind {
	i := bytes.LastIndex(msg, f2bBan)
	if i < 0 {
		return Noise
	}
	before := msg[:i]
	if bytes.HasSuffix(before, f2bRestore) || len(before) == 0 || before[len(before)-1] != ']' {
		return Noise
	}
	a, ok := parseAddr(bytes.TrimSpace(msg[i+len(f2bBan):]))
	if !ok {
		return Unreadable
	}
	ev.Addr = a
	return Abuse
}
