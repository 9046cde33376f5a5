package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// TestInboundModel drives inbound mails through random verdicts, requeues
// and handlings against a model of their states: a verdict lands only on a
// new mail (a second processor's is refused), a requeue makes any mail new
// again, handling closes only review, incomplete and bounce entries, and
// the raw bytes and their hash never change.
func TestInboundModel(t *testing.T) {
	st := storetest.OpenSQLite(t)
	ctx := context.Background()
	verdicts := []string{store.InboundReport, store.InboundReply, store.InboundIncomplete, store.InboundReview, store.InboundBounce, store.InboundIgnored}
	rapid.Check(t, func(rt *rapid.T) {
		type mail struct {
			id    int64
			state string
			raw   string
			hash  string
		}
		var mails []*mail
		rt.Repeat(map[string]func(*rapid.T){
			"receive": func(rt *rapid.T) {
				raw := fmt.Sprintf("Subject: %d\r\n\r\n%s", len(mails), rapid.StringN(0, 40, -1).Draw(rt, "body"))
				m := &store.InboundMail{RemoteAddr: "127.0.0.1:1", Helo: "x", MailFrom: "a@b.example", RcptTo: []string{"abuse@desk.example"}, Raw: []byte(raw)}
				if err := st.InsertInbound(ctx, m); err != nil {
					rt.Fatal(err)
				}
				mails = append(mails, &mail{id: m.ID, state: store.InboundNew, raw: raw, hash: m.SHA256})
			},
			"verdict": func(rt *rapid.T) {
				if len(mails) == 0 {
					rt.Skip("no mail")
				}
				m := rapid.SampledFrom(mails).Draw(rt, "mail")
				v := rapid.SampledFrom(verdicts).Draw(rt, "state")
				err := st.FinishInbound(ctx, m.id, store.InboundVerdict{State: v, Parser: "plaintext", At: time.Now(), Detail: map[string]any{"n": 1}})
				switch {
				case m.state == store.InboundNew && err != nil:
					rt.Fatalf("verdict on a new mail refused: %v", err)
				case m.state != store.InboundNew && !errors.Is(err, store.ErrInboundDone):
					rt.Fatalf("verdict on a %s mail: %v, want ErrInboundDone", m.state, err)
				}
				if err == nil {
					m.state = v
				}
			},
			"requeue": func(rt *rapid.T) {
				if len(mails) == 0 {
					rt.Skip("no mail")
				}
				m := rapid.SampledFrom(mails).Draw(rt, "mail")
				if err := st.RequeueInbound(ctx, m.id); err != nil {
					rt.Fatal(err)
				}
				m.state = store.InboundNew
			},
			"handle": func(rt *rapid.T) {
				if len(mails) == 0 {
					rt.Skip("no mail")
				}
				m := rapid.SampledFrom(mails).Draw(rt, "mail")
				err := st.HandleInbound(ctx, m.id, "ana@desk", "looked", time.Now())
				handleable := m.state == store.InboundReview || m.state == store.InboundIncomplete || m.state == store.InboundBounce
				switch {
				case handleable && err != nil:
					rt.Fatalf("handling a %s mail: %v", m.state, err)
				case !handleable && !errors.Is(err, store.ErrInboundDone):
					rt.Fatalf("handling a %s mail: %v, want ErrInboundDone", m.state, err)
				}
				if err == nil {
					m.state = store.InboundDone
				}
			},
			"": func(rt *rapid.T) {
				pending := map[int64]bool{}
				ids, err := st.PendingInbound(ctx, 0, 1<<20)
				if err != nil {
					rt.Fatal(err)
				}
				for _, id := range ids {
					pending[id] = true
				}
				for _, m := range mails {
					got, err := st.InboundByID(ctx, m.id)
					if err != nil {
						rt.Fatal(err)
					}
					if got.State != m.state || string(got.Raw) != m.raw || got.SHA256 != m.hash {
						rt.Fatalf("mail %d: state %s raw %q hash %s, model %s %q %s", m.id, got.State, got.Raw, got.SHA256, m.state, m.raw, m.hash)
					}
					if pending[m.id] != (m.state == store.InboundNew) {
						rt.Fatalf("mail %d in state %s: pending %v", m.id, m.state, pending[m.id])
					}
				}
			},
		})
	})
}
