// Package logscan reads the logs of a machine under attack and finds in them
// the source addresses of the abuse, with the time and the line of each
// event, for the desk's bulk CSV (internal/intake/csvreport): the
// reporter's side of POST /api/v1/reports/bulk.
//
// The format is detected line by line (a file may mix them, as a syslog
// file does), with no format to name:
//
//   - syslog: BSD syslog (RFC 3164 §4.1.2, "Mar  2 10:00:00 host prog[pid]:
//     msg"), with a PRI part or not, RFC 5424 ("<34>1 2026-03-02T10:00:00Z
//     host app procid msgid [sd] msg"), rsyslog's high-precision format
//     (RFC 3339 timestamps), and journalctl's -o short, short-precise,
//     short-iso, short-iso-precise, short-full and short-unix output; the
//     journal export format (journalctl -o export, see journal.go);
//   - in those, the messages of sshd and sshd-session (sshd.go), the
//     kernel's netfilter LOG lines of iptables, ufw and nftables
//     (firewall.go), postfix, dovecot and exim authentication failures
//     (mail.go), fail2ban bans (fail2ban.go);
//   - fail2ban.log, exim's mainlog, nginx and Apache access logs (combined,
//     common, vhost_combined) and error logs (web.go).
//
// rsyslog's "message repeated N times: [ … ]" counts N events, and
// syslogd's "last message repeated N times" N more of the line before.
//
// # Times
//
// A time with its zone (an offset, Z) is kept as written. A time without
// one (RFC 3164, fail2ban, nginx's error log, Apache's, exim's) is read in
// Options.Location, and RFC 3164's, which has no year, gets the latest year
// that does not put it more than YearSlack after the reference time (the
// file's modification time, or Options.Now): a December line read in
// January is last year's. Every timestamp written carries its offset.
//
// # Addresses
//
// IPv4 and IPv6, "::ffff:a.b.c.d" read as the IPv4 address it maps,
// brackets and ports ("[2001:db8::1]:51234") stripped. Attackers write text
// into logs (user names, request paths, client banners): every parser
// reads the address where the program writes it, and a line whose source
// cannot be told for sure is unreadable, never guessed.
//
// # Grouping, memory, speed
//
// A Collector keeps, per address of the provider's space, a count, the
// first and last times and at most MaxPerIP lines (the earliest and the
// latest half): its memory depends on the number of those addresses, not
// on the size of the logs. A file is read in blocks parsed by one worker
// per CPU and merged in order (parallel.go), with the sequential result.
package logscan
