package mailbox

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Per-parser counters: a sender's format change shows as a drop of
// "parsed" (and a rise of "review") in one parser's line, not as silence.
var (
	mailsStored = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_mailbox_stored_total",
		Help: "Mails accepted by SMTP and committed, or failed to commit (the sender was told to retry).",
	}, []string{"result"})
	parserSeen = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_mailbox_parser_seen_total",
		Help: "Mails processed, by the parser that took them (own, dsn, reply, arf, xarf, dmca, feed, plaintext).",
	}, []string{"parser"})
	parserResults = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_mailbox_parser_results_total",
		Help: "Mails by parser and result: parsed (became reports) or review (incomplete or not understood).",
	}, []string{"parser", "result"})
	reviewTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_mailbox_review_total",
		Help: "Mails sent to the review queue, by parser.",
	}, []string{"parser"})
)
