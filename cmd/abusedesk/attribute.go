package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"abusedesk/internal/attribution"
	"abusedesk/internal/inventory"
	"abusedesk/internal/report"
	"abusedesk/internal/store"
)

// cmdImport is `abusedesk import ranges|inventory [--db DB] FILE`.
func cmdImport(ctx context.Context, args []string) error {
	usage := errors.New("usage: abusedesk import ranges|inventory [--db DB] FILE (- for standard input)")
	if len(args) == 0 || (args[0] != "ranges" && args[0] != "inventory") {
		return usage
	}
	what := args[0]
	fs := flag.NewFlagSet("import "+what, flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return usage
	}
	in := os.Stdin
	if name := fs.Arg(0); name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		in = f
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	k := inventory.New(st, nil)
	if err := k.Load(ctx); err != nil {
		return err
	}
	if what == "ranges" {
		space, es, err := attribution.ParseRanges(in)
		if err != nil {
			return err
		}
		for _, e := range es {
			fmt.Fprintf(os.Stderr, "%s: %s (%s)\n", e.Field, e.Message, e.Code)
		}
		if err := k.ReplaceRanges(ctx, space); err != nil {
			return err
		}
		fmt.Printf("%d prefixes imported, %d entries refused\n", space.Len(), len(es))
		if len(es) > 0 {
			return fmt.Errorf("%d entries refused", len(es))
		}
		return nil
	}
	n, lerrs, err := k.ImportStream(ctx, in)
	if err != nil {
		return err
	}
	for _, e := range lerrs {
		fmt.Fprintf(os.Stderr, "line %d: %s: %s (%s)\n", e.Line, e.Field, e.Message, e.Code)
	}
	fmt.Printf("%d accounts, %d resources, %d assignments (%d closed), %d host names (%d closed) imported, %d lines unchanged; %d lines refused\n",
		n.Accounts, n.Resources, n.Assignments, n.Closed, n.Hostnames, n.HostsClosed, n.Unchanged, n.LinesRefused)
	if len(lerrs) > 0 {
		return fmt.Errorf("%d lines refused (the good ones are kept)", n.LinesRefused)
	}
	return nil
}

// cmdAttribute is `abusedesk attribute [--db DB] IP|URL TIME`: the verdict
// as JSON, for operators and debugging.
func cmdAttribute(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("attribute", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("usage: abusedesk attribute [--db DB] IP|URL TIME (TIME with its zone, e.g. 2026-03-02T10:00:00+01:00)")
	}
	at, err := report.ParseTimestamp(fs.Arg(1))
	if err != nil {
		return fmt.Errorf("TIME %q: %w", fs.Arg(1), err)
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	// Only what can decide is read: the prefixes containing the address,
	// or the host name and its wildcards (instant at any inventory size).
	item := fs.Arg(0)
	var addr netip.Addr
	var host string
	if a, ok := report.ParseIP(item); ok {
		addr = a
	} else if strings.Contains(item, "://") {
		h, ok := attribution.HostOfURL(item)
		if !ok {
			return fmt.Errorf("%q is not an absolute http(s) URL", item)
		}
		if a, err := netip.ParseAddr(h); err == nil {
			addr = a
		} else {
			host = h
		}
	} else {
		return fmt.Errorf("%q is neither an IP address nor an http(s) URL", item)
	}
	part, err := st.LoadInventoryFor(ctx, addr, host)
	if err != nil {
		return err
	}
	a := inventory.Attributor(part)
	var v attribution.Verdict
	if addr.IsValid() {
		v = a.Addr(addr, at)
	} else {
		v, _ = a.URL(item, at)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
