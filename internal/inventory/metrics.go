package inventory

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

var (
	indexSize = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Name: "abusedesk_attribution_entries",
		Help: "What the published attribution indexes hold: ranges, assignments (interval records), hostnames, resources.",
	}, []string{"kind"})
	logSeq = promauto.NewGauge(prometheus.GaugeOpts{
		Name: "abusedesk_inventory_log_seq",
		Help: "Last inventory log entry applied by this instance; instances that differ for long are not following.",
	})
	batches = promauto.NewCounterVec(prometheus.CounterOpts{
		Name: "abusedesk_inventory_batches_total",
		Help: "Inventory batches applied to the indexes, by source (import: taken here; log: replayed from another writer; reload: rebuilt from the tables).",
	}, []string{"source"})
	linesRefused = promauto.NewCounter(prometheus.CounterOpts{
		Name: "abusedesk_inventory_lines_refused_total",
		Help: "Inventory lines refused (bad format, unknown reference, overlap).",
	})
)
