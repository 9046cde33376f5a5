package smtpd

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// result is the outcome label of abusedesk_smtp_messages_total.
type result int

const (
	resultAccepted     result = iota // Deliver returned nil, 250 sent
	resultTooLarge                   // 552 at MAIL (declared SIZE) or after DATA; also over-long lines
	resultRejectedRcpt               // one RCPT refused by Accept (counted per recipient)
	resultRateLimited                // a connection refused with 421 or a MAIL with 450
	resultDeliverError               // Deliver failed, 451 sent
	resultCut                        // the client went away (or stalled) before the final dot
	numResults
)

var resultNames = [numResults]string{"accepted", "too_large", "rejected_rcpt", "rate_limited", "deliver_error", "cut"}

func (r result) String() string { return resultNames[r] }

var (
	sessions = promauto.NewCounter(prometheus.CounterOpts{
		Name: "abusedesk_smtp_sessions_total",
		Help: "SMTP connections admitted (past the per-client rate and connection caps).",
	})
	messages = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_smtp_messages_total",
		Help: "SMTP outcomes by result: accepted, too_large, rejected_rcpt (per recipient), rate_limited (connection or MAIL), deliver_error, cut.",
	}, []string{"result"})
)

func init() {
	// Export every series from the start, so a rate() over a result that
	// has not happened yet is 0 rather than absent.
	for _, n := range resultNames {
		messages.WithLabelValues(n)
	}
}
