package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"abusedesk/internal/store"
)

// cmdCustomer is `abusedesk customer key|link …`, for support staff:
//
//	abusedesk customer key  --db DB [--label L] ACCOUNT        prints a new portal API key (acp_…)
//	abusedesk customer link --db DB [--base-url URL] ACCOUNT   prints a one-use magic login link
//
// Both are written to the audit trail with the actor "cli".
func cmdCustomer(ctx context.Context, args []string) error {
	usage := errors.New("usage: abusedesk customer key [--db DB] [--label L] ACCOUNT | abusedesk customer link [--db DB] [--base-url URL] [--ttl 1h] ACCOUNT")
	if len(args) == 0 || (args[0] != "key" && args[0] != "link") {
		return usage
	}
	sub := args[0]
	fs := flag.NewFlagSet("customer "+sub, flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	label := fs.String("label", "cli", "key: a label the customer sees on the API keys page")
	base := fs.String("base-url", env("ABUSEDESK_BASE_URL", "http://localhost:8080"), "link: the desk's public `URL` ($ABUSEDESK_BASE_URL)")
	ttl := fs.Duration("ttl", time.Hour, "link: how long the link works")
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return usage
	}
	account := strings.TrimSpace(fs.Arg(0))
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	acct, err := st.AccountIdentity(ctx, account)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no account %q in the inventory", account)
	}
	if err != nil {
		return err
	}
	now := time.Now()
	switch sub {
	case "key":
		key, err := st.AddPortalAPIKey(ctx, account, *label, now)
		if err != nil {
			return err
		}
		if err := st.RecordAudit(ctx, store.Audit{Actor: "cli", Action: "portal_key_created",
			Detail: map[string]any{"account": account, "label": *label}, At: now}); err != nil {
			return err
		}
		fmt.Println(key)
		fmt.Fprintf(os.Stderr, "portal API key for %s (label %q): shown once, only its hash is kept\n", account, *label)
	case "link":
		if *ttl <= 0 || *ttl > 7*24*time.Hour {
			return fmt.Errorf("--ttl %v: between 1s and 168h", *ttl)
		}
		email := acct.ContactEmail()
		t, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer t.Rollback()
		tok, err := st.CreatePortalLoginTx(ctx, t, account, email, 0, now, *ttl)
		if err != nil {
			return err
		}
		if err := t.Commit(); err != nil {
			return err
		}
		if err := st.RecordAudit(ctx, store.Audit{Actor: "cli", Action: "portal_link_created",
			Detail: map[string]any{"account": account, "email": email}, At: now}); err != nil {
			return err
		}
		prefix := ""
		if acct.Language == "fr" {
			prefix = "/fr"
		}
		fmt.Println(strings.TrimRight(*base, "/") + prefix + "/portal/login/" + tok)
		fmt.Fprintf(os.Stderr, "one-use login link for %s (contact %s), valid %v: give it to the customer's contact only\n", account, email, *ttl)
	}
	return nil
}
