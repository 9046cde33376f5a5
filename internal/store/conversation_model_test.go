package store_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"pgregory.net/rapid"

	"abusedesk/internal/store"
)

// TestConversationModel drives mediated messages and outbox mails with
// random operations in random order (an analyst holding and releasing, the
// notifier relaying; deliveries claimed, sent, deferred, failed, retried)
// and checks the store against a model of their states: a held message is
// never relayed, a relayed one never changes again; a sent mail is never
// claimed or marked again, a failed one only comes back by a retry, a
// claimed one cannot be claimed twice.
func TestConversationModel(t *testing.T) {
	// One store for every run (each run has its own case, messages and
	// mails): opening and migrating a file per run would be most of the time.
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		var caseID int64
		if err := s.W.QueryRowContext(ctx, `INSERT INTO cases (public_id, account, resource, category, subtypes, lane, status, is_open,
			priority, due_at, created_at, updated_at) VALUES ($1, 'a', 'r', 'network', '', 'general', 'customer_notified', false, 0, 0, 0, 0) RETURNING id`,
			fmt.Sprintf("C-MODEL%d", run)).Scan(&caseID); err != nil {
			rt.Fatal(err)
		}
		now := time.Unix(1_800_000_000, 0)
		msgs := map[int64]string{} // id → state
		var msgIDs []int64
		type mail struct {
			state    string
			attempts int
			due      time.Time // claims wait for it; a claim moves it (its lease)
		}
		mails := map[int64]*mail{}
		var mailIDs []int64
		pick := func(ids []int64, label string) int64 { return ids[rapid.IntRange(0, len(ids)-1).Draw(rt, label)] }

		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for i := 0; i < steps; i++ {
			now = now.Add(time.Duration(rapid.SampledFrom([]int{1, 1, 90, 4000}).Draw(rt, "seconds")) * time.Second)
			op := rapid.SampledFrom([]string{"message", "hold", "release", "relay", "mail", "claim", "sent", "defer", "fail", "retry"}).Draw(rt, "op")
			switch op {
			case "message":
				m := &store.Message{CaseID: caseID, Sender: store.PartyReporter, Recipient: store.PartyCustomer, Kind: "message",
					Body: "hello", State: store.MessagePending, RelayAt: now, CreatedAt: now}
				id, err := s.AddMessage(ctx, m, "reporter:R-1")
				if err != nil {
					rt.Fatal(err)
				}
				msgs[id] = store.MessagePending
				msgIDs = append(msgIDs, id)
			case "hold", "release":
				if len(msgIDs) == 0 {
					continue
				}
				id := pick(msgIDs, "message")
				fn := s.HoldMessage
				to := store.MessageHeld
				if op == "release" {
					fn, to = s.ReleaseMessage, store.MessagePending
				}
				err := fn(ctx, id, "analyst", now)
				ok := msgs[id] == store.MessagePending || msgs[id] == store.MessageHeld
				if ok != (err == nil) || (!ok && !errors.Is(err, store.ErrMessageState)) {
					rt.Fatalf("%s of a %s message: %v", op, msgs[id], err)
				}
				if ok {
					msgs[id] = to
				}
			case "relay":
				if len(msgIDs) == 0 {
					continue
				}
				id := pick(msgIDs, "message")
				tx, err := s.W.BeginTx(ctx, nil)
				if err != nil {
					rt.Fatal(err)
				}
				err = s.MarkMessageRelayedTx(ctx, tx, id, now)
				if (msgs[id] == store.MessagePending) != (err == nil) {
					tx.Rollback()
					rt.Fatalf("relay of a %s message: %v", msgs[id], err)
				}
				if err == nil {
					if err := tx.Commit(); err != nil {
						rt.Fatal(err)
					}
					msgs[id] = store.MessageRelayed
				} else {
					tx.Rollback()
				}
			case "mail":
				tx, err := s.W.BeginTx(ctx, nil)
				if err != nil {
					rt.Fatal(err)
				}
				n := len(mailIDs)
				id, err := s.InsertOutboxTx(ctx, tx, &store.OutboxMail{MessageID: fmt.Sprintf("<%d-%d@m>", run, n), DedupeKey: fmt.Sprintf("k%d-%d", run, n), Kind: "reporter_ack",
					Party: "reporter", Recipient: "r@x", From: "d@x", Subject: "s", Language: "en", ReplyToken: fmt.Sprintf("t%d-%d", run, n), Raw: []byte("x"),
					State: store.OutboxQueued, CreatedAt: now})
				if err != nil {
					tx.Rollback()
					rt.Fatal(err)
				}
				if err := tx.Commit(); err != nil {
					rt.Fatal(err)
				}
				mails[id] = &mail{state: store.OutboxQueued, due: now}
				mailIDs = append(mailIDs, id)
			case "claim":
				if len(mailIDs) == 0 {
					continue
				}
				id := pick(mailIDs, "mail")
				m := mails[id]
				ok, err := s.ClaimOutbox(ctx, id, m.attempts, now, now.Add(time.Hour))
				if err != nil {
					rt.Fatal(err)
				}
				if want := m.state == store.OutboxQueued && !m.due.After(now); ok != want {
					rt.Fatalf("claim of a %s mail due %v at %v: %v", m.state, m.due, now, ok)
				}
				if ok {
					m.due = now.Add(time.Hour)
				}
			case "sent", "defer", "fail":
				if len(mailIDs) == 0 {
					continue
				}
				id := pick(mailIDs, "mail")
				m := mails[id]
				attempt := m.attempts + 1
				var err error
				switch op {
				case "sent":
					err = s.MarkOutboxSent(ctx, id, attempt, 250, "ok", now)
				case "defer":
					err = s.MarkOutboxDeferred(ctx, id, attempt, 451, "later", now.Add(time.Minute), now)
				case "fail":
					err = s.MarkOutboxFailed(ctx, id, attempt, 550, "no", now)
				}
				if (m.state == store.OutboxQueued) != (err == nil) {
					rt.Fatalf("%s of a %s mail: %v", op, m.state, err)
				}
				if err == nil {
					m.attempts = attempt
					m.state = map[string]string{"sent": store.OutboxSent, "defer": store.OutboxQueued, "fail": store.OutboxFailed}[op]
					if op == "defer" {
						m.due = now.Add(time.Minute)
					}
				}
			case "retry":
				if len(mailIDs) == 0 {
					continue
				}
				id := pick(mailIDs, "mail")
				tx, err := s.W.BeginTx(ctx, nil)
				if err != nil {
					rt.Fatal(err)
				}
				err = s.RequeueOutboxTx(ctx, tx, id, now)
				tx.Commit()
				if (mails[id].state == store.OutboxFailed) != (err == nil) {
					rt.Fatalf("retry of a %s mail: %v", mails[id].state, err)
				}
				if err == nil {
					mails[id].state, mails[id].due = store.OutboxQueued, now
				}
			}
		}
		for id, want := range msgs {
			m, err := s.MessageByID(ctx, id)
			if err != nil || m.State != want {
				rt.Fatalf("message %d: %v %v, model %s", id, m, err, want)
			}
		}
		for id, want := range mails {
			m, err := s.OutboxByID(ctx, id)
			if err != nil || m.State != want.state || m.Attempts != want.attempts {
				rt.Fatalf("mail %d: %+v %v, model %+v", id, m, err, want)
			}
		}
	})
}
