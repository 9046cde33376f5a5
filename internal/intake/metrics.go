package intake

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	reportsAccepted = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_reports_accepted_total",
		Help: "Reports stored, by abuse type and intake channel.",
	}, []string{"type", "channel"})
	itemsAccepted = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_report_items_accepted_total",
		Help: "Items (incidents, URLs, DMCA locations) stored, by intake channel.",
	}, []string{"channel"})
	rejects = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_rejects_total",
		Help: "Problems found in submissions, by channel and error code (one rejected report can count several).",
	}, []string{"channel", "code"})
)

func countRejects(channel string, codes []string) {
	for _, c := range codes {
		rejects.WithLabelValues(channel, c).Inc()
	}
}
