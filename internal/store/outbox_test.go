package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

func insertOutbox(t *testing.T, s *store.Store, m *store.OutboxMail) (int64, error) {
	t.Helper()
	ctx := context.Background()
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	id, err := s.InsertOutboxTx(ctx, tx, m)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id, nil
}

func outboxMail(n int, caseID, reportID int64) *store.OutboxMail {
	return &store.OutboxMail{
		MessageID:  fmt.Sprintf("<m%d@desk.example>", n),
		DedupeKey:  fmt.Sprintf("ack:%d", n),
		Kind:       "reporter_ack",
		CaseID:     caseID,
		ReportID:   reportID,
		Party:      "reporter",
		Recipient:  "victim@example.org",
		From:       "abuse@desk.example",
		Subject:    fmt.Sprintf("Report R-%d received", n),
		Language:   "en",
		ReplyToken: fmt.Sprintf("tok%d", n),
		Raw:        []byte(fmt.Sprintf("Subject: %d\r\n\r\nbody\r\n", n)),
		CreatedAt:  time.UnixMilli(1_700_000_000_000 + int64(n)),
	}
}

func TestOutboxStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		at := time.UnixMilli(1_700_000_100_000)

		id1, err := insertOutbox(t, s, outboxMail(1, 7, 0))
		if err != nil {
			t.Fatal(err)
		}
		id2, err := insertOutbox(t, s, outboxMail(2, 0, 9))
		if err != nil {
			t.Fatal(err)
		}
		id3, err := insertOutbox(t, s, outboxMail(3, 7, 9))
		if err != nil {
			t.Fatal(err)
		}

		// The same occasion twice: ErrExists, and the transaction goes on
		// (PostgreSQL aborts a transaction on a failed statement).
		tx, err := s.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		dup := outboxMail(1, 7, 0)
		dup.MessageID, dup.ReplyToken = "<other@desk.example>", "othertok"
		if _, err := s.InsertOutboxTx(ctx, tx, dup); !errors.Is(err, store.ErrExists) {
			t.Fatalf("duplicate dedupe key: %v, want ErrExists", err)
		}
		id4, err := s.InsertOutboxTx(ctx, tx, outboxMail(4, 0, 0))
		if err != nil {
			t.Fatalf("insert after a duplicate in the same tx: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}

		m, err := s.OutboxByID(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		want := outboxMail(1, 7, 0)
		if m.State != store.OutboxQueued || m.CaseID != 7 || m.ReportID != 0 || m.Attempts != 0 ||
			!bytes.Equal(m.Raw, want.Raw) || m.Subject != want.Subject || m.From != want.From ||
			!m.CreatedAt.Equal(want.CreatedAt) || !m.NextAttemptAt.IsZero() || !m.SentAt.IsZero() {
			t.Errorf("OutboxByID = %+v", m)
		}
		if m, err := s.OutboxByReplyToken(ctx, "tok2"); err != nil || m.ID != id2 || m.ReportID != 9 {
			t.Errorf("OutboxByReplyToken = %+v, %v", m, err)
		}
		if _, err := s.OutboxByID(ctx, 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown id: %v", err)
		}
		if _, err := s.OutboxByReplyToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}

		// Claims: one worker at a time, only when due.
		if ok, err := s.ClaimOutbox(ctx, id1, 0, at, at.Add(time.Minute)); err != nil || !ok {
			t.Fatalf("first claim: %v %v", ok, err)
		}
		if ok, err := s.ClaimOutbox(ctx, id1, 0, at, at.Add(time.Minute)); err != nil || ok {
			t.Fatalf("second claim during the lease: %v %v", ok, err)
		}
		if ok, err := s.ClaimOutbox(ctx, id1, 0, at.Add(2*time.Minute), at.Add(3*time.Minute)); err != nil || !ok {
			t.Fatalf("claim after the lease: %v %v", ok, err)
		}

		// id1: deferred once, then sent.
		next := at.Add(time.Minute)
		if err := s.MarkOutboxDeferred(ctx, id1, 1, 451, "451 4.3.0 try later", next, at); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClaimOutbox(ctx, id1, 0, next, next.Add(time.Minute)); err != nil || ok {
			t.Fatalf("claim with stale attempts: %v %v", ok, err)
		}
		m, _ = s.OutboxByID(ctx, id1)
		if m.State != store.OutboxQueued || m.Attempts != 1 || m.LastError != "451 4.3.0 try later" || !m.NextAttemptAt.Equal(next) {
			t.Errorf("after deferral: %+v", m)
		}
		if err := s.MarkOutboxSent(ctx, id1, 2, 250, "250 2.0.0 queued as X", next); err != nil {
			t.Fatal(err)
		}
		m, _ = s.OutboxByID(ctx, id1)
		if m.State != store.OutboxSent || m.Attempts != 2 || !m.SentAt.Equal(next) || !m.NextAttemptAt.IsZero() {
			t.Errorf("after sent: %+v", m)
		}
		// Not queued any more: nothing changes, and no attempt row is left.
		if err := s.MarkOutboxFailed(ctx, id1, 3, 550, "late", next); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("failing a sent mail: %v", err)
		}
		atts, err := s.OutboxAttempts(ctx, id1)
		if err != nil {
			t.Fatal(err)
		}
		if len(atts) != 2 || atts[0].Result != store.AttemptDeferred || atts[0].Code != 451 || !atts[0].At.Equal(at) ||
			atts[1].Result != store.AttemptSent || atts[1].Code != 250 || atts[1].Detail != "250 2.0.0 queued as X" {
			t.Errorf("attempts = %+v", atts)
		}

		// id2: refused, then retried from the console.
		if err := s.MarkOutboxFailed(ctx, id2, 1, 550, "550 5.1.1 no such user", at); err != nil {
			t.Fatal(err)
		}
		m, _ = s.OutboxByID(ctx, id2)
		if m.State != store.OutboxFailed || m.Attempts != 1 || m.LastError != "550 5.1.1 no such user" {
			t.Errorf("after failed: %+v", m)
		}
		tx, err = s.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RequeueOutboxTx(ctx, tx, id2, at); err != nil {
			t.Fatal(err)
		}
		if err := s.RequeueOutboxTx(ctx, tx, id3, at); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("requeue of a queued mail: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		m, _ = s.OutboxByID(ctx, id2)
		if m.State != store.OutboxQueued || m.Attempts != 1 {
			t.Errorf("after requeue: %+v", m)
		}
		if ok, err := s.ClaimOutbox(ctx, id2, 1, at, at.Add(time.Minute)); err != nil || !ok {
			t.Errorf("claim after requeue: %v %v", ok, err)
		}
		// The deferred variant in the caller's transaction: a rollback
		// leaves neither the attempt nor the state.
		tx, err = s.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.MarkOutboxDeferredTx(ctx, tx, id3, 1, 0, "connection refused", next, at); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if atts, _ := s.OutboxAttempts(ctx, id3); len(atts) != 0 {
			t.Errorf("rolled back attempt kept: %+v", atts)
		}

		counts, err := s.OutboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if counts[store.OutboxQueued] != 3 || counts[store.OutboxSent] != 1 || counts[store.OutboxFailed] != 0 {
			t.Errorf("counts = %v", counts)
		}

		ids := func(ms []store.OutboxMail) []int64 {
			var out []int64
			for _, m := range ms {
				if m.Raw != nil {
					t.Errorf("ListOutbox loaded raw of %d", m.ID)
				}
				out = append(out, m.ID)
			}
			return out
		}
		for _, c := range []struct {
			f    store.OutboxFilter
			want []int64
		}{
			{store.OutboxFilter{}, []int64{id4, id3, id2, id1}},
			{store.OutboxFilter{Limit: 2}, []int64{id4, id3}},
			{store.OutboxFilter{Before: id3, Limit: 2}, []int64{id2, id1}},
			{store.OutboxFilter{State: store.OutboxSent}, []int64{id1}},
			{store.OutboxFilter{CaseID: 7}, []int64{id3, id1}},
			{store.OutboxFilter{ReportID: 9, State: store.OutboxQueued}, []int64{id3, id2}},
			{store.OutboxFilter{CaseID: 7, ReportID: 9, Before: id3}, nil},
		} {
			got, err := s.ListOutbox(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if g := ids(got); fmt.Sprint(g) != fmt.Sprint(c.want) {
				t.Errorf("ListOutbox(%+v) = %v, want %v", c.f, g, c.want)
			}
		}
	})
}
