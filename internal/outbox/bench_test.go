package outbox_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"abusedesk/internal/outbox"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// BenchmarkOutboxThroughput measures the outbox end to end: b.N mails
// composed and queued (100 per transaction), then delivered by 4 workers
// into a local SMTP sink. mails/s is the delivery rate, from the runner's
// start to the last mail sent; queued/s the rate of composing and queueing.
// With mails this fast to send, River's fetch cooldown (the Runner's poll
// interval, 50ms here, at most 100ms) bounds a runner at about workers
// jobs per cooldown; workers=32 shows how it scales.
func BenchmarkOutboxThroughput(b *testing.B) {
	for _, c := range []struct {
		dialect string
		workers int
	}{{store.SQLite, 4}, {store.SQLite, 32}, {store.Postgres, 4}, {store.Postgres, 32}} {
		dialect := c.dialect
		b.Run(fmt.Sprintf("%s/workers=%d", c.dialect, c.workers), func(b *testing.B) {
			var st *store.Store
			if dialect == store.SQLite {
				st = storetest.OpenSQLite(b)
			} else {
				st = storetest.OpenPostgres(b)
			}
			sink := startSink(b, "127.0.0.1:0")
			d := newDeliverer(b, st, sink.Addr(), c.workers, nil)
			ctx := context.Background()
			b.ResetTimer()
			t0 := time.Now()
			queue(b, d, 1, b.N)
			t1 := time.Now()
			start(b, d)
			deadline := t1.Add(time.Minute + time.Duration(b.N)*10*time.Millisecond)
			for {
				c, err := st.OutboxCounts(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if c[store.OutboxSent] == b.N {
					break
				}
				if time.Now().After(deadline) {
					b.Fatalf("after %s: %v", time.Since(t1), c)
				}
				time.Sleep(5 * time.Millisecond)
			}
			t2 := time.Now()
			b.StopTimer()
			if sink.Count() != b.N {
				b.Fatalf("sink got %d mails, want %d", sink.Count(), b.N)
			}
			b.ReportMetric(float64(b.N)/t2.Sub(t1).Seconds(), "mails/s")
			b.ReportMetric(float64(b.N)/t1.Sub(t0).Seconds(), "queued/s")
		})
	}
}

// BenchmarkRawSMTP is the baseline: the same bytes sent with Relay.Send
// in a loop, on one connection and on 4 at once (as the 4 workers do).
func BenchmarkRawSMTP(b *testing.B) {
	raw := composeMail(1).Raw
	for _, conns := range []int{1, 4} {
		name := map[int]string{1: "1conn", 4: "4conns"}[conns]
		b.Run(name, func(b *testing.B) {
			sink := startSink(b, "127.0.0.1:0")
			r := &outbox.Relay{Addr: sink.Addr(), Timeout: 10 * time.Second, MaxIdle: conns}
			defer r.Close()
			ctx := context.Background()
			b.ResetTimer()
			t0 := time.Now()
			var wg sync.WaitGroup
			for w := range conns {
				wg.Go(func() {
					for i := w; i < b.N; i += conns {
						if _, _, err := r.Send(ctx, "abuse@desk.example", []string{"reporter@example.org"}, raw); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			el := time.Since(t0)
			b.StopTimer()
			if sink.Count() != b.N {
				b.Fatalf("sink got %d mails, want %d", sink.Count(), b.N)
			}
			b.ReportMetric(float64(b.N)/el.Seconds(), "mails/s")
		})
	}
}
