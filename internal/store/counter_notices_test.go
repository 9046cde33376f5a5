package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// dmcaCase inserts a case row directly: category, outcome ("" for NULL)
// and closing time (zero: open).
func dmcaCase(t *testing.T, s *store.Store, account, category, outcome string, closed time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	var n int
	if err := s.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM cases").Scan(&n); err != nil {
		t.Fatal(err)
	}
	var out, closedAt any
	if outcome != "" {
		out = outcome
	}
	if !closed.IsZero() {
		closedAt = closed.UnixMilli()
	}
	var id int64
	err := s.W.QueryRowContext(ctx, `INSERT INTO cases (public_id, account, resource, category, subtypes, lane, status, is_open,
		outcome, priority, due_at, created_at, updated_at, closed_at)
		VALUES ($1, $2, $3, $4, 'copyright', 'dmca', $5, $6, $7, 0, 0, $8, $8, $9) RETURNING id`,
		fmt.Sprintf("C-CN%04d", n), account, fmt.Sprintf("res-%d", n), category, map[bool]string{true: "new", false: "resolved"}[closed.IsZero()],
		closed.IsZero(), out, closed.Add(-time.Hour).UnixMilli(), closedAt).Scan(&id)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func insertCounterNotice(t *testing.T, s *store.Store, r *store.CounterNoticeRow) int64 {
	t.Helper()
	ctx := context.Background()
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	id, err := s.InsertCounterNoticeTx(ctx, tx, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return id
}

func courtAction(t *testing.T, s *store.Store, caseID int64, at time.Time) bool {
	t.Helper()
	ctx := context.Background()
	tx, err := s.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ok, err := s.RecordCourtActionTx(ctx, tx, caseID, at)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestCounterNoticeLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		rcv := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)
		caseID := dmcaCase(t, s, "acct-1", "dmca", "CONTENT_DOWN_OR_INACCESSIBLE", rcv.Add(-24*time.Hour))
		row := &store.CounterNoticeRow{CaseID: caseID, Account: "acct-1", Notice: []byte(`{"name":"Jane Doe","material":"<b>photo</b>"}`),
			ReceivedAt: rcv, RestoreEarliest: rcv.AddDate(0, 0, 15), RestoreLatest: rcv.AddDate(0, 0, 21)}
		id1 := insertCounterNotice(t, s, row)
		if row.ID != id1 || id1 == 0 {
			t.Fatalf("id %d, row.ID %d", id1, row.ID)
		}
		later := *row
		later.ReceivedAt = rcv.Add(time.Hour)
		later.Notice = []byte(`{"name":"Jane Doe","material":"another"}`)
		id2 := insertCounterNotice(t, s, &later)

		// A rolled-back insert leaves nothing.
		tx, err := s.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.InsertCounterNoticeTx(ctx, tx, &store.CounterNoticeRow{CaseID: caseID, Account: "acct-1", Notice: []byte("{}"), ReceivedAt: rcv, RestoreEarliest: rcv, RestoreLatest: rcv}); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		tx, _ = s.W.BeginTx(ctx, nil)
		if _, err := s.InsertCounterNoticeTx(ctx, tx, &store.CounterNoticeRow{CaseID: caseID, Account: "acct-1", Notice: []byte("{}"), ReceivedAt: rcv}); err == nil {
			t.Error("insert without a restore window")
		}
		tx.Rollback()

		got, err := s.CounterNotices(ctx, caseID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != id1 || got[1].ID != id2 {
			t.Fatalf("counter-notices: %+v", got)
		}
		g := got[0]
		if string(g.Notice) != string(row.Notice) || g.Account != "acct-1" || g.CaseID != caseID || !g.ReceivedAt.Equal(rcv) ||
			!g.RestoreEarliest.Equal(row.RestoreEarliest) || !g.RestoreLatest.Equal(row.RestoreLatest) ||
			!g.ForwardedAt.IsZero() || !g.CourtActionAt.IsZero() || !g.RestoredAt.IsZero() {
			t.Fatalf("read back: %+v", g)
		}
		if other, err := s.CounterNotices(ctx, caseID+1000); err != nil || len(other) != 0 {
			t.Fatalf("another case: %v %v", other, err)
		}

		// Forwarded: the first time is kept.
		fwd := rcv.Add(10 * time.Minute)
		if err := s.SetCounterNoticeForwarded(ctx, id1, fwd); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCounterNoticeForwarded(ctx, id1, fwd.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.SetCounterNoticeForwarded(ctx, 99999, fwd); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("forward unknown: %v", err)
		}

		// The first is restored; the court action then ends only the second.
		restored := rcv.AddDate(0, 0, 16)
		if err := s.MarkRestored(ctx, id1, restored); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkRestored(ctx, id1, restored.Add(time.Hour)); err != nil {
			t.Errorf("restored twice: %v", err)
		}
		if err := s.MarkRestored(ctx, 99999, restored); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("restore unknown: %v", err)
		}
		court := rcv.AddDate(0, 0, 5)
		if !courtAction(t, s, caseID, court) {
			t.Fatal("court action found no open counter-notice")
		}
		if courtAction(t, s, caseID, court.Add(time.Hour)) {
			t.Error("second court action found an open counter-notice")
		}
		if err := s.MarkRestored(ctx, id2, restored); !errors.Is(err, store.ErrCourtAction) {
			t.Errorf("restore after court action: %v", err)
		}
		got, _ = s.CounterNotices(ctx, caseID)
		if !got[0].ForwardedAt.Equal(fwd) || !got[0].RestoredAt.Equal(restored) || !got[0].CourtActionAt.IsZero() {
			t.Errorf("first: %+v", got[0])
		}
		if !got[1].CourtActionAt.Equal(court) || !got[1].RestoredAt.IsZero() || !got[1].ForwardedAt.IsZero() {
			t.Errorf("second: %+v", got[1])
		}
		// A case without counter-notices: no court action to record.
		if courtAction(t, s, dmcaCase(t, s, "acct-1", "dmca", "", time.Time{}), court) {
			t.Error("court action on a case without counter-notices")
		}
	})
}

func TestCounterNoticeStrikes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		day := func(d int) time.Time { return time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC) }
		cn := func(caseID int64, court time.Time) {
			insertCounterNotice(t, s, &store.CounterNoticeRow{CaseID: caseID, Account: "a", Notice: []byte("{}"),
				ReceivedAt: day(1), RestoreEarliest: day(15), RestoreLatest: day(19)})
			if !court.IsZero() && !courtAction(t, s, caseID, court) {
				t.Fatal("no counter-notice for the court action")
			}
		}
		dmcaCase(t, s, "a", "dmca", "ACTIONED", day(2))                                      // strike
		dmcaCase(t, s, "a", "dmca", "CONTENT_DOWN_OR_INACCESSIBLE", day(3))                  // strike
		cn(dmcaCase(t, s, "a", "dmca", "ACTIONED", day(4)), time.Time{})                     // counter-notice, no court action: not a strike
		cn(dmcaCase(t, s, "a", "dmca", "ACTIONED", day(5)), day(6))                          // counter-notice then court action: strike
		dmcaCase(t, s, "a", "dmca", "REVIEWED_NO_ACTION", day(7))                            // no action
		dmcaCase(t, s, "a", "dmca", "NOT_RESOLVABLE_TO_PROVIDER", day(8))                    // not ours
		dmcaCase(t, s, "a", "content", "ACTIONED", day(9))                                   // not dmca
		dmcaCase(t, s, "a", "dmca", "", time.Time{})                                         // open
		dmcaCase(t, s, "b", "dmca", "ACTIONED", day(10))                                     // another account
		dmcaCase(t, s, "a", "dmca", "ACTIONED", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)) // long ago

		for _, c := range []struct {
			account string
			since   time.Time
			want    int
		}{
			{"a", day(1), 3},
			{"a", time.Time{}, 4},
			{"a", day(3), 2}, // closed_at >= since
			{"a", day(4), 1},
			{"a", day(6), 0},
			{"b", day(1), 1},
			{"nobody", time.Time{}, 0},
		} {
			got, err := s.DMCAStrikes(ctx, c.account, c.since)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("DMCAStrikes(%s, %s) = %d, want %d", c.account, c.since.Format(time.DateOnly), got, c.want)
			}
		}
	})
}
