#!/usr/bin/env bash
# JSON intake benchmark: wrk over loopback, 64 connections, against
#   1. POST /api/v1/reports/validate  — the same server, decoding and
#      validating but storing nothing: the ceiling;
#   2. POST /api/v1/reports on SQLite  — every 201 after its commit;
#   3. the same on PostgreSQL, when ABUSEDESK_BENCH_POSTGRES (or
#      ABUSEDESK_TEST_POSTGRES) names a server.
# Usage: bench/json.sh [seconds]   (default 10)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/abusedesk" ./cmd/abusedesk

start() { # start DB → sets pid, url
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
  "$work/abusedesk" serve --addr 127.0.0.1:$port --db "$1" --no-rate-limit 2>"$work/server.log" &
  pid=$!
  url=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -sf "$url/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start:"; cat "$work/server.log"; exit 1
}
run() { # name path
  wrk -t2 -c64 -d${secs}s --latency -s bench/report.lua "$url$2" | grep '^RESULT' | sed "s/^RESULT/$1/"
}
stored() { curl -s "$url/metrics" | awk '/^abusedesk_reports_accepted_total\{channel="api",type="network"\}/ {print $2}'; }

echo "JSON intake, $(nproc) CPUs, wrk 64 connections, ${secs}s each"
start "$work/bench.db"
run "ceiling(no db)" /api/v1/reports/validate | tee "$work/ceiling"
run "sqlite        " /api/v1/reports | tee "$work/sqlite"
echo "sqlite stored  reports=$(stored) (wrk counts only completed requests; stored >= completed 201s)"
kill $pid; wait $pid 2>/dev/null || true

pg=${ABUSEDESK_BENCH_POSTGRES:-${ABUSEDESK_TEST_POSTGRES:-}}
if [ -n "$pg" ]; then
  db=abusedesk_bench_json_$$
  psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
  pgurl=$(python3 - "$pg" "$db" <<'PY'
import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1]); print(u.urlunsplit((p.scheme, p.netloc, "/" + sys.argv[2], p.query, "")))
PY
)
  start "$pgurl"
  run "postgres      " /api/v1/reports | tee "$work/pg"
  echo "postgres stored reports=$(stored)"
  kill $pid; wait $pid 2>/dev/null || true
  psql "$pg" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
else
  echo "postgres: skipped (set ABUSEDESK_BENCH_POSTGRES=postgres://… to run it)"
fi
c=$(sed -E 's/.*rps=([0-9]+).*/\1/' "$work/ceiling"); s=$(sed -E 's/.*rps=([0-9]+).*/\1/' "$work/sqlite")
awk -v c="$c" -v s="$s" 'BEGIN { printf "sqlite / ceiling = %.2f\n", s / c }'
