#!/usr/bin/env bash
# The public scan page under load: wrk (2 threads, 64 connections) on the page of one
# genuine label served by truyxuat (scans recorded), then nginx serving the same page saved
# as a static file (../shared/bench/static_nginx.sh). Prints both request rates, p99
# latencies and their ratio, and checks that every page served stored its scan. Then the
# same load spread over 100,000 labels of the batch, each scanned in turn, as real traffic
# is: one label's page repeated can be served from caches that many labels miss.
# Usage: bench/scan_page.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
shared=../shared/bench
bash "$shared/setup.sh" >/dev/null
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
cargo build --release --quiet
bin=$PWD/target/release/truyxuat

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
export TRUYXUAT_DATABASE_URL="sqlite://$work/bench.db" TRUYXUAT_KEY_DIR="$work/keys" \
  TRUYXUAT_BASE_URL="http://127.0.0.1:18081" TRUYXUAT_LOG=warn
"$bin" demo 2>/dev/null
"$bin" keys new >/dev/null 2>&1
batch=$("$bin" mint --product 1 --count 100000 --lot CD-2026-10A 2>/dev/null)
uri=$("$bin" labels "$batch" --range 0..1)
"$bin" labels "$batch" --range 1..100000 | sed "s#^$TRUYXUAT_BASE_URL##" >"$work/paths"
"$bin" --bind 127.0.0.1:18081 serve 2>"$work/server.log" &
server=$!
for _ in $(seq 50); do curl -sf -o /dev/null "$uri" && break; sleep 0.1; done
curl -sf "$uri" -o "$work/page.html"

scans() { sqlite3 "$work/bench.db" "SELECT COUNT(*) FROM scans"; }
served() { curl -s http://127.0.0.1:18081/metrics | awk -F' ' '/^truyxuat_http_requests_total\{method="GET",route="\/01\/\{\*rest\}",status="200"\}/ {print $2}'; }

# One run of wrk (after a warm-up) with ARGS; prints its report, then the pages it got with
# 200 and the scans stored meanwhile.
load() {
  wrk -t2 -c64 -d2s "$@" >/dev/null
  sleep 1   # let the warm-up's last requests finish before counting
  local scans0 served0 report
  scans0=$(scans); served0=$(served)
  report=$(wrk -t2 -c64 -d"${seconds}s" --latency "$@")
  sleep 1
  echo "$report"
  echo "ANSWERED $(( $(served) - served0 )) STORED $(( $(scans) - scans0 ))"
}
truyxuat_report=$(load -H 'Accept-Encoding: gzip' "$uri")
many_report=$(URIS="$work/paths" load -s bench/labels_in_turn.lua "$TRUYXUAT_BASE_URL")
nginx_report=$("$shared/static_nginx.sh" "$work/page.html" "$seconds")

rate() { awk '/Requests\/sec/ {print $2}'; }
p99() { awk '$1 == "99%" {print $2}'; }
errors() { awk '/Non-2xx|Socket errors/ {print}' ; }
t_rate=$(rate <<<"$truyxuat_report"); m_rate=$(rate <<<"$many_report"); n_rate=$(rate <<<"$nginx_report")
echo "scan page under wrk -t2 -c64 -d${seconds}s on loopback (same page, gzip):"
printf '  %-40s %10s req/s   p99 %8s\n' "truyxuat, one label (scan recorded)" "$t_rate" "$(p99 <<<"$truyxuat_report")"
printf '  %-40s %10s req/s   p99 %8s\n' "truyxuat, 100,000 labels in turn" "$m_rate" "$(p99 <<<"$many_report")"
printf '  %-40s %10s req/s   p99 %8s\n' "nginx static file" "$n_rate" "$(p99 <<<"$nginx_report")"
awk -v t="$t_rate" -v m="$m_rate" -v n="$n_rate" 'BEGIN {
  printf "  ratio truyxuat / nginx: %.3f one label, %.3f many labels (target: at least 0.5)\n", t / n, m / n }'
echo "  errors: one label [$(errors <<<"$truyxuat_report")] many [$(errors <<<"$many_report")] nginx [$(errors <<<"$nginx_report")]"
# A scan is committed before its page is sent, so every page served has its scan; when wrk
# stops it abandons up to one request per connection whose scan is already stored.
status=0
for run in "one label:$truyxuat_report" "many labels:$many_report"; do
  read -r _ answered _ stored < <(grep '^ANSWERED' <<<"${run#*:}")
  echo "  ${run%%:*}: pages served with 200: $answered; scans stored: $stored (abandoned in flight when wrk stopped: $(( stored - answered )), at most 64)"
  if [ "$stored" -lt "$answered" ] || [ $(( stored - answered )) -gt 64 ]; then
    echo "  MISMATCH: every page served must have stored exactly its scan" >&2; status=1
  fi
done
exit $status
