package store_test

import (
	"context"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// BenchmarkWriterSubmit: reports through group commit, many submitters.
func BenchmarkWriterSubmit(b *testing.B) {
	s := storetest.OpenSQLite(b)
	w := s.NewWriter()
	defer w.Close()
	r := networkReport(&testing.T{}, "bench@example.org")
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := w.Submit(context.Background(), &store.NewReport{Report: r, Channel: "api", Raw: []byte(`{"type":"network"}`), ReceivedAt: time.Now()}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "reports/s")
}
