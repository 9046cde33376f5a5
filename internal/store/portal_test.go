package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"abusedesk/internal/cases"
	"abusedesk/internal/store"
	"abusedesk/internal/store/storetest"
)

// portalAccount inserts an account of the inventory.
func portalAccount(t *testing.T, s *store.Store, ext, security, email string) {
	t.Helper()
	if _, err := s.W.ExecContext(context.Background(), `INSERT INTO accounts (ext_id, name, security_email, email, language)
		VALUES ($1, $2, $3, $4, 'en')`, ext, "Org "+ext, security, email); err != nil {
		t.Fatal(err)
	}
}

// portalCase inserts a new case row of account and returns its public id.
func portalCase(t *testing.T, s *store.Store, account string, n int) string {
	t.Helper()
	pub := fmt.Sprintf("C-PORTAL%06d", n)
	now := time.Now().UnixMilli()
	if _, err := s.W.ExecContext(context.Background(), `INSERT INTO cases (public_id, account, resource, category, subtypes, lane, status, is_open,
		priority, due_at, created_at, updated_at) VALUES ($1, $2, $3, 'network', 'ddos', 'general', 'new', true, 0, $4, $5, $5)`,
		pub, account, fmt.Sprintf("res-%d", n), int64(9223372036854775807), now); err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestPortalLoginToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		login := func(caseID int64, ttl time.Duration) string {
			t.Helper()
			tx, err := s.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			tok, err := s.CreatePortalLoginTx(ctx, tx, "acct-1", "sec@customer.example", caseID, now, ttl)
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		tok := login(42, time.Hour)
		// Reading the link does not use it.
		for range 2 {
			acct, cid, err := s.PortalLoginInfo(ctx, tok, now.Add(time.Minute))
			if err != nil || acct != "acct-1" || cid != 42 {
				t.Fatalf("login info: %q %d %v", acct, cid, err)
			}
		}
		if _, _, err := s.PortalLoginInfo(ctx, "not-a-token", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("unknown token: %v", err)
		}
		sess, stok, err := s.RedeemPortalLogin(ctx, tok, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if sess.Account != "acct-1" || sess.Email != "sec@customer.example" || sess.CaseID != 42 || sess.CSRF == "" || stok == "" {
			t.Errorf("session %+v", sess)
		}
		// One use.
		if _, _, err := s.RedeemPortalLogin(ctx, tok, now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second use: %v", err)
		}
		if _, _, err := s.PortalLoginInfo(ctx, tok, now.Add(2*time.Minute)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("info of a used link: %v", err)
		}
		// Expiry.
		old := login(0, time.Hour)
		if _, _, err := s.PortalLoginInfo(ctx, old, now.Add(time.Hour)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("info of an expired link: %v", err)
		}
		if _, _, err := s.RedeemPortalLogin(ctx, old, now.Add(time.Hour+time.Second)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("expired link redeemed: %v", err)
		}
		// A link is not an API key, and the other way round.
		if _, err := s.AccountByPortalKey(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a login token works as an API key: %v", err)
		}
	})
}

func TestPortalSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		portalAccount(t, s, "acct-1", "", "owner@customer.example")
		tx, _ := s.W.BeginTx(ctx, nil)
		tok, err := s.CreatePortalLoginTx(ctx, tx, "acct-1", "owner@customer.example", 0, now, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		tx.Commit()
		sess, stok, err := s.RedeemPortalLogin(ctx, tok, now)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Language != "en" || sess.CaseID != 0 {
			t.Errorf("session %+v", sess)
		}
		got, err := s.PortalSessionByToken(ctx, stok, now.Add(time.Hour))
		if err != nil || got.Account != "acct-1" || got.CSRF != sess.CSRF {
			t.Fatalf("live session: %+v %v", got, err)
		}
		// Used every few hours, it lives on, up to the absolute limit.
		at := now
		for at.Add(7 * time.Hour).Before(now.Add(store.SessionMax)) {
			at = at.Add(7 * time.Hour)
			if _, err := s.PortalSessionByToken(ctx, stok, at); err != nil {
				t.Fatalf("session used at +%v: %v", at.Sub(now), err)
			}
		}
		if _, err := s.PortalSessionByToken(ctx, stok, now.Add(store.SessionMax)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session past its absolute limit: %v", err)
		}
		// Idle: a second session left alone for longer than SessionIdle.
		tx, _ = s.W.BeginTx(ctx, nil)
		tok, _ = s.CreatePortalLoginTx(ctx, tx, "acct-1", "owner@customer.example", 0, now, time.Hour)
		tx.Commit()
		_, stok2, err := s.RedeemPortalLogin(ctx, tok, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.PortalSessionByToken(ctx, stok2, now.Add(store.SessionIdle)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("idle session: %v", err)
		}
		// Logout.
		tx, _ = s.W.BeginTx(ctx, nil)
		tok, _ = s.CreatePortalLoginTx(ctx, tx, "acct-1", "owner@customer.example", 0, now, time.Hour)
		tx.Commit()
		_, stok3, _ := s.RedeemPortalLogin(ctx, tok, now)
		if err := s.DeletePortalSession(ctx, stok3); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PortalSessionByToken(ctx, stok3, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("session after logout: %v", err)
		}
		if _, err := s.DeleteExpiredPortal(ctx, now.Add(30*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestPortalAPIKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		k1, err := s.AddPortalAPIKey(ctx, "acct-1", " ci ", now)
		if err != nil {
			t.Fatal(err)
		}
		k2, _ := s.AddPortalAPIKey(ctx, "acct-1", "ticketing", now.Add(time.Minute))
		other, _ := s.AddPortalAPIKey(ctx, "acct-2", "theirs", now)
		if len(k1) < 40 || k1[:4] != "acp_" {
			t.Errorf("key %q", k1)
		}
		for key, want := range map[string]string{k1: "acct-1", k2: "acct-1", other: "acct-2"} {
			if acct, err := s.AccountByPortalKey(ctx, key); err != nil || acct != want {
				t.Errorf("key of %s: %q %v", want, acct, err)
			}
		}
		keys, err := s.PortalAPIKeys(ctx, "acct-1")
		if err != nil || len(keys) != 2 || keys[0].Label != "ticketing" || keys[1].Label != "ci" || len(keys[0].ID) != 12 {
			t.Fatalf("keys %+v %v", keys, err)
		}
		// Another account cannot revoke it; an unknown id is not found.
		theirs, _ := s.PortalAPIKeys(ctx, "acct-2")
		if err := s.RevokePortalAPIKey(ctx, "acct-1", theirs[0].ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking another account's key: %v", err)
		}
		if err := s.RevokePortalAPIKey(ctx, "acct-1", "000000000000", now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking an unknown key: %v", err)
		}
		if err := s.RevokePortalAPIKey(ctx, "acct-1", keys[1].ID, now); err != nil {
			t.Fatal(err)
		}
		if _, err := s.AccountByPortalKey(ctx, k1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoked key still works: %v", err)
		}
		if acct, err := s.AccountByPortalKey(ctx, other); err != nil || acct != "acct-2" {
			t.Errorf("the other account's key: %q %v", acct, err)
		}
		if keys, _ := s.PortalAPIKeys(ctx, "acct-1"); len(keys) != 1 || keys[0].Label != "ticketing" {
			t.Errorf("keys after revocation %+v", keys)
		}
		if err := s.RevokePortalAPIKey(ctx, "acct-1", keys[1].ID, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("revoking twice: %v", err)
		}
	})
}

func TestPortalAccountByContactEmail(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		portalAccount(t, s, "acct-sec", "Security@Customer.example", "owner@customer.example")
		portalAccount(t, s, "acct-plain", "", "Owner@Plain.example")
		for email, want := range map[string]string{
			"security@customer.example":  "acct-sec",
			" SECURITY@customer.EXAMPLE": "acct-sec",
			"owner@plain.example":        "acct-plain",
		} {
			if acct, err := s.AccountByContactEmail(ctx, email); err != nil || acct != want {
				t.Errorf("%q: %q %v, want %s", email, acct, err, want)
			}
		}
		// The account email is not the contact when a security contact exists.
		for _, email := range []string{"owner@customer.example", "", "nobody@x.example"} {
			if acct, err := s.AccountByContactEmail(ctx, email); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%q: %q %v, want not found", email, acct, err)
			}
		}
	})
}

func TestCustomerCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC()
		p := cases.DefaultPolicy()
		notified := []string{portalCase(t, s, "acct-1", 1), portalCase(t, s, "acct-1", 2)}
		quiet := portalCase(t, s, "acct-1", 3)
		theirs := portalCase(t, s, "acct-2", 4)
		for _, id := range append(notified, theirs) {
			if _, _, err := s.ApplyCase(ctx, id, "analyst@provider.example", cases.Command{Action: cases.Notify}, p, now); err != nil {
				t.Fatal(err)
			}
		}
		if _, _, err := s.ApplyCase(ctx, quiet, "analyst@provider.example", cases.Command{Action: cases.Note, Note: "not yet"}, p, now); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ApplyCase(ctx, notified[0], "analyst@provider.example", cases.Command{Action: cases.Resolve, Outcome: cases.Actioned}, p, now); err != nil {
			t.Fatal(err)
		}
		ids := func(cs []store.Case) []string {
			var out []string
			for _, c := range cs {
				out = append(out, c.PublicID)
			}
			return out
		}
		got, err := s.CustomerCases(ctx, "acct-1", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids(got)) != fmt.Sprint([]string{notified[1], notified[0]}) {
			t.Errorf("acct-1 sees %v, want %v (newest first, notified only)", ids(got), []string{notified[1], notified[0]})
		}
		got, _ = s.CustomerCases(ctx, "acct-1", string(cases.Resolved), 10)
		if len(got) != 1 || got[0].PublicID != notified[0] || got[0].Status != cases.Resolved {
			t.Errorf("resolved cases of acct-1: %v", ids(got))
		}
		got, _ = s.CustomerCases(ctx, "acct-2", "", 10)
		if len(got) != 1 || got[0].PublicID != theirs {
			t.Errorf("acct-2 sees %v", ids(got))
		}
		if got, _ := s.CustomerCases(ctx, "acct-1", "", 1); len(got) != 1 {
			t.Errorf("limit 1: %d cases", len(got))
		}
	})
}
