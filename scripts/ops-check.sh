#!/bin/sh
# Checks the operations features of a build end to end, as an operator would:
#  1. /metrics refuses a scrape without the token (401) and, with it, passes `promtool check
#     metrics` (Debian's prometheus package; skipped with a note when absent);
#  2. the replication drills: a console streaming to a folder and to a local S3 server is
#     killed with SIGKILL under webhook load and restored; the figures (writes acknowledged,
#     restored, lost, lag) are printed;
#  3. the write overhead of replication: webhook ingestion without a replica, with a folder's
#     and with a local S3 server's (events/s, and how soon the replica held every event).
# Usage: scripts/ops-check.sh   (LINKDESK_CHECK_ADDR overrides the address, default 127.0.0.1:18091)
set -eu
cd "$(dirname "$0")/.."
addr=${LINKDESK_CHECK_ADDR:-127.0.0.1:18091}
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

go build -o "$tmp/linkdesk" ./cmd/linkdesk
LINKDESK_METRICS_TOKEN=ops-check-token "$tmp/linkdesk" serve --addr "$addr" --db "$tmp/l.db" --metrics --sync-every 0 >"$tmp/log" 2>&1 &
pid=$!
i=0
until curl -fs "http://$addr/readyz" >/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && { echo "console did not start:"; cat "$tmp/log"; exit 1; }
	sleep 0.1
done

code=$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/metrics")
[ "$code" = 401 ] || { echo "FAIL: /metrics without the token answered $code, want 401"; exit 1; }
echo "ok: /metrics without the token: 401"
curl -fs -H "Authorization: Bearer ops-check-token" "http://$addr/metrics" >"$tmp/metrics"
echo "ok: /metrics with the token: $(grep -c '^linkdesk_' "$tmp/metrics") linkdesk_ samples"
if command -v promtool >/dev/null; then
	promtool check metrics <"$tmp/metrics" && echo "ok: promtool check metrics found no problem"
else
	echo "note: promtool not installed (apt-get install prometheus); format not checked"
fi
kill "$pid"; pid=

go test ./cmd/linkdesk/ -count=1 -run 'TestReplicationSurvivesKill9|TestReplicationToS3SurvivesKill9|TestRestoreIfMissing' -v |
	grep -E 'writes acknowledged|^(--- |ok|FAIL)'
go test ./cmd/linkdesk/ -count=1 -run '^$' -bench Replicat -benchtime 1x | grep -E '^Benchmark|^(ok|FAIL)'
