package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"abusedesk/internal/auth"
	"abusedesk/internal/cases"
	"abusedesk/internal/store"
)

// cmdUser is `abusedesk user add [--db DB] --role analyst|admin EMAIL`:
// a staff account. The password is read from $ABUSEDESK_PASSWORD, or
// from the terminal without echo, or from the first line of stdin.
func cmdUser(ctx context.Context, args []string) error {
	usage := errors.New("usage: abusedesk user add [--db DB] --role analyst|admin [--name NAME] [--lang en|fr] [--reset] EMAIL")
	if len(args) == 0 || args[0] != "add" {
		return usage
	}
	fs := flag.NewFlagSet("user add", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	role := fs.String("role", store.RoleAnalyst, "analyst or admin")
	name := fs.String("name", "", "display name (default: the email's local part)")
	lang := fs.String("lang", "en", "console language: en or fr")
	reset := fs.Bool("reset", false, "the user exists: set a new password and role")
	fs.Parse(args[1:])
	if fs.NArg() != 1 {
		return usage
	}
	email := strings.ToLower(strings.TrimSpace(fs.Arg(0)))
	if !strings.Contains(email, "@") {
		return fmt.Errorf("%q is not an email address", fs.Arg(0))
	}
	if *role != store.RoleAnalyst && *role != store.RoleAdmin {
		return fmt.Errorf("--role %q: analyst or admin", *role)
	}
	if *lang != "en" && *lang != "fr" {
		return fmt.Errorf("--lang %q: en or fr", *lang)
	}
	if *name == "" {
		*name, _, _ = strings.Cut(email, "@")
	}
	pw, err := readPassword()
	if err != nil {
		return err
	}
	if err := auth.CheckPolicy(pw); err != nil {
		return err
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	if *reset {
		u, err := st.UserByEmail(ctx, email)
		if err != nil {
			return fmt.Errorf("user %s: %w", email, err)
		}
		if err := st.SetPassword(ctx, u.ID, hash, *role); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "user %s: new password set, role %s\n", email, *role)
		return nil
	}
	if _, err := st.AddUser(ctx, email, *name, *role, *lang, hash); err != nil {
		if errors.Is(err, store.ErrExists) {
			return fmt.Errorf("%w (use --reset to set a new password)", err)
		}
		return err
	}
	fmt.Fprintf(os.Stderr, "user %s added (%s); log in at /console/login\n", email, *role)
	return nil
}

// readPassword takes $ABUSEDESK_PASSWORD, else asks on the terminal with
// echo off, else reads stdin's first line (for scripts).
func readPassword() (string, error) {
	if pw := os.Getenv("ABUSEDESK_PASSWORD"); pw != "" {
		return pw, nil
	}
	fd := int(os.Stdin.Fd())
	if t, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
		fmt.Fprint(os.Stderr, "password (at least 12 characters, not shown): ")
		quiet := *t
		quiet.Lflag &^= unix.ECHO
		quiet.Lflag |= unix.ICANON | unix.ISIG
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, &quiet); err == nil {
			defer unix.IoctlSetTermios(fd, unix.TCSETS, t)
			defer fmt.Fprintln(os.Stderr)
		}
	}
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errors.New("no password: set ABUSEDESK_PASSWORD or type it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// cmdStaffToken is `abusedesk token add [--db DB] EMAIL`: a bearer token
// for the staff API that acts as that user.
func cmdStaffToken(ctx context.Context, db, email, name string) error {
	st, err := store.Open(ctx, db)
	if err != nil {
		return err
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, email)
	if err != nil {
		return fmt.Errorf("user %s: %w (create it with abusedesk user add)", email, err)
	}
	if u.Disabled {
		return fmt.Errorf("user %s is disabled", email)
	}
	if name == "" {
		name = "staff api: " + u.Email
	}
	tok, err := st.AddStaffToken(ctx, u.ID, name)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	fmt.Fprintln(os.Stderr, "send it as \"Authorization: Bearer TOKEN\" to /api/v1/cases…; it acts as", u.Email, "and is shown only now")
	return nil
}

// cmdAudit is `abusedesk audit verify [--db DB]`: walks the hash chain of
// the audit trail and names the first entry that breaks it.
func cmdAudit(ctx context.Context, args []string) error {
	usage := errors.New("usage: abusedesk audit verify [--db DB]")
	if len(args) == 0 || args[0] != "verify" {
		return usage
	}
	fs := flag.NewFlagSet("audit verify", flag.ExitOnError)
	db := fs.String("db", env("ABUSEDESK_DB", "abusedesk.db"), "SQLite `file` or postgres:// URL ($ABUSEDESK_DB)")
	fs.Parse(args[1:])
	if fs.NArg() != 0 {
		return usage
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return err
	}
	defer st.Close()
	n, head, err := st.VerifyAudit(ctx)
	var ce *cases.ChainError
	if errors.As(err, &ce) {
		return fmt.Errorf("audit trail BROKEN at entry %d: %s (%d entries before it verified)", ce.Seq, ce.Reason, n)
	}
	if err != nil {
		return err
	}
	fmt.Printf("audit trail intact: %d entries, each hash-chained to the one before\nhead: entry %d, sha256 %x\n(keep the head elsewhere: a later run whose chain does not pass through it shows entries removed from the end)\n", n, n, head)
	return nil
}
