// Command abusedesk is the whole abuse desk in one binary.
//
//	abusedesk serve   [--addr HOST:PORT] [--db FILE|postgres://…]   run the server
//	abusedesk migrate [--db …]                                      bring the schema up to date
//	abusedesk demo    [--addr HOST:PORT]                            a server on a fresh SQLite file with a synthetic provider and sample reports
//	abusedesk demo provider --out DIR [--records 10M]               the synthetic provider's files only (ip-ranges.json, inventory.jsonl)
//	abusedesk key add [--db …] NAME                                 create an API key (higher rate limit)
//	abusedesk user add [--db …] --role analyst|admin EMAIL          a staff account (console, staff API)
//	abusedesk token add [--db …] EMAIL                              a bearer token for the staff API (/api/v1/cases…)
//	abusedesk token add --system [--db …] NAME                      a bearer token for an inventory feed
//	abusedesk customer key|link [--db …] ACCOUNT                     a portal API key, a portal login link (support)
//	abusedesk audit verify [--db …]                                 check the audit trail's hash chain
//	abusedesk import ranges|inventory [--db …] FILE                 the address space, the inventory
//	abusedesk attribute [--db …] IP|URL TIME                        who held it then, as JSON
//	abusedesk routing show [--routing FILE]                         the effective routing rules
//	abusedesk bench csv [--rows N] [--db …]                          CSV bulk intake figures
//	abusedesk bench console [--db FILE]                             queue and search latency at 1M cases, 5M reports
//	abusedesk bench scan [--size 1GB]                               report scan throughput on a generated auth.log
//	abusedesk report scan [--ranges FILE] LOG…                      a reporter's logs → the desk's bulk CSV
//	abusedesk report submit --server URL … FILE.csv                 upload it to the bulk endpoint
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"
)

const usage = `abusedesk: a provider's abuse desk

usage:
  abusedesk serve   [--addr HOST:PORT] [--db FILE|postgres://URL]
  abusedesk migrate [--db FILE|postgres://URL]
  abusedesk demo    [--addr HOST:PORT] [--addresses 300k] [--seed N]
  abusedesk demo provider --out DIR [--addresses N | --records 10M] [--seed N] [--now TIME]
  abusedesk key add [--db FILE|postgres://URL] NAME
  abusedesk user add [--db FILE|postgres://URL] --role analyst|admin [--name N] [--lang en|fr] [--reset] EMAIL
  abusedesk token add [--db FILE|postgres://URL] EMAIL
  abusedesk token add --system [--scope inventory] [--db FILE|postgres://URL] NAME
  abusedesk customer key  [--db FILE|postgres://URL] [--label L] ACCOUNT
  abusedesk customer link [--db FILE|postgres://URL] [--base-url URL] [--ttl 1h] ACCOUNT
  abusedesk audit verify [--db FILE|postgres://URL]
  abusedesk import ranges|inventory [--db FILE|postgres://URL] FILE
  abusedesk attribute [--db FILE|postgres://URL] IP|URL TIME
  abusedesk routing show [--routing FILE]
  abusedesk mail parse FILE.eml…   (what a mail to abuse@ becomes, as JSON; nothing stored)
  abusedesk bench csv [--rows N] [--db FILE|postgres://URL]
  abusedesk bench console [--db FILE] [--cases 1M] [--reports 5M]
  abusedesk bench scan [--size 1GB]
  abusedesk bench mailbox [--mails N] [--db FILE|postgres://URL]
  abusedesk report scan|submit …   (abusedesk report help)

Every flag has an environment variable (ABUSEDESK_ADDR, ABUSEDESK_DB, …);
see README.md.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		err = cmdServe(ctx, args)
	case "migrate":
		err = cmdMigrate(ctx, args)
	case "demo":
		err = cmdDemo(ctx, args)
	case "key":
		err = cmdKey(ctx, args)
	case "routing":
		err = cmdRouting(ctx, args)
	case "token":
		err = cmdToken(ctx, args)
	case "import":
		err = cmdImport(ctx, args)
	case "user":
		err = cmdUser(ctx, args)
	case "customer":
		err = cmdCustomer(ctx, args)
	case "audit":
		err = cmdAudit(ctx, args)
	case "attribute":
		err = cmdAttribute(ctx, args)
	case "mail":
		err = cmdMail(ctx, args, os.Stdout)
	case "bench":
		err = cmdBench(ctx, args)
	case "report":
		os.Exit(cmdReport(ctx, args, os.Stdin, os.Stdout, os.Stderr))
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "abusedesk: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "abusedesk:", err)
		os.Exit(1)
	}
}

// env returns the variable's value or def.
func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}

func envInt(name string, def int64) int64 {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "abusedesk: %s=%q is not an integer; using %d\n", name, v, def)
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil {
			return n
		}
		fmt.Fprintf(os.Stderr, "abusedesk: %s=%q is not a number; using %g\n", name, v, def)
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
		fmt.Fprintf(os.Stderr, "abusedesk: %s=%q is not a duration such as 2s; using %s\n", name, v, def)
	}
	return def
}

func newLogger() *slog.Logger {
	level := slog.LevelInfo
	if os.Getenv("ABUSEDESK_LOG_LEVEL") == "debug" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
