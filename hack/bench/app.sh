#!/usr/bin/env bash
# One section of docs/benchmarks.md: the GitHub App loop, measured against
# the local GitHub stand-in (internal/githubfake) and the real git server
# (internal/gittest), offline.
#
#   bash hack/bench/app.sh KMEND CACHE     (hack/bench.sh does this)
#
# It prints one Markdown section on stdout, "## GitHub App loop", and logs
# on stderr. KMEND and CACHE are not used: the loop runs in-process, from
# the Go tests of internal/bot. Knobs, for trying things out only:
#   BENCH_APP_PRS=40   pull requests timed (one repository each)
#
# What it runs:
#   - BenchmarkWebhookToPR: a push delivered to the real webhook receiver,
#     timed from its 202 to the pull request opened (GitHub's 201 to POST
#     /pulls) and to the handler's end; GitHub API calls per pull request
#     from the stand-in's counters;
#   - TestLoadShuffledDeliveries: 1,000 deliveries shuffled and each sent
#     twice; the pull requests and comments expected and found.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
N=${BENCH_APP_PRS:-40}
TARGET_MS=2000
TARGET_CALLS=10
log() { printf 'bench app: %s\n' "$*" >&2; }

# metric LINE UNIT: the value before UNIT in a benchmark result line.
metric() { awk -v u="$2" '{ for (i = 2; i <= NF; i++) if ($i == u) { print $(i - 1); exit } }' <<<"$1"; }
# kv LINE KEY: the value of KEY=value in the load test's line.
kv() { tr ' ' '\n' <<<"$1" | awk -F= -v k="$2" '$1 == k { print $2; exit }'; }
met() { if [ "$1" = 1 ]; then echo "**met**"; else echo "**not met**"; fi; }

log "BenchmarkWebhookToPR, $N pull requests"
rc=0
bench=$(go test -count=1 -run '^$' -bench '^BenchmarkWebhookToPR$' -benchtime "${N}x" ./internal/bot 2>&1) || rc=$?
line=$(grep -E '^BenchmarkWebhookToPR(-[0-9]+)?[[:space:]]' <<<"$bench" | tail -1 || true)
if [ "$rc" -ne 0 ] || [ -z "$line" ]; then
	printf '%s\n' "$bench" | tail -n 20 >&2
	echo "bench app: BenchmarkWebhookToPR failed (exit $rc)" >&2
	exit 1
fi
for u in PRs p50-ms p95-ms done-p50-ms done-p95-ms calls/PR; do
	if [ -z "$(metric "$line" "$u")" ]; then
		echo "bench app: no $u in: $line" >&2
		exit 1
	fi
done
# num FORMAT VALUE: VALUE printed with FORMAT.
num() { awk -v f="$1" -v v="$2" 'BEGIN { printf f, v }'; }
prs=$(num %d "$(metric "$line" PRs)")
p50=$(num %.0f "$(metric "$line" p50-ms)")
p95=$(num %.0f "$(metric "$line" p95-ms)")
d50=$(num %.0f "$(metric "$line" done-p50-ms)")
d95=$(num %.0f "$(metric "$line" done-p95-ms)")
calls=$(num %.1f "$(metric "$line" calls/PR)")
lat_ok=$(awk -v v="$p50" -v t="$TARGET_MS" 'BEGIN { print (v + 0 < t ? 1 : 0) }')
calls_ok=$(awk -v v="$calls" -v t="$TARGET_CALLS" 'BEGIN { print (v + 0 <= t ? 1 : 0) }')

log "TestLoadShuffledDeliveries"
rc=0
load=$(go test -count=1 -run '^TestLoadShuffledDeliveries$' -v ./internal/bot 2>&1) || rc=$?
lline=$(grep -o 'load: result=.*' <<<"$load" | tail -1 || true)
if [ -z "$lline" ]; then
	printf '%s\n' "$load" | tail -n 20 >&2
	echo "bench app: TestLoadShuffledDeliveries printed no result (exit $rc)" >&2
	exit 1
fi
result=$(kv "$lline" result)
[ "$rc" -eq 0 ] || result=FAILED
load_ok=0
if [ "$result" = ok ] && [ "$(kv "$lline" prs_expected)" = "$(kv "$lline" prs_observed)" ] &&
	[ "$(kv "$lline" comments_expected)" = "$(kv "$lline" comments_observed)" ] && [ "$(kv "$lline" handler_errors)" = 0 ]; then
	load_ok=1
fi
if [ "$rc" -ne 0 ]; then
	grep -E '^\s+load_test.go:[0-9]+: ' <<<"$load" | grep -v 'load: result=' | head -n 5 | sed 's/^/bench app: /' >&2 || true
fi

cat <<EOF
## GitHub App loop

Measured against the local GitHub stand-in (every call checked against
GitHub's OpenAPI description) and a real \`git http-backend\` server, in one
process, offline: \`go test -bench BenchmarkWebhookToPR -benchtime ${N}x
./internal/bot\` and \`go test -run TestLoadShuffledDeliveries ./internal/bot\`.
A push to a repository with risky manifests (fixtures/demo-repo's
storefront) is delivered to the real webhook receiver, one at a time, each
on its own repository; the clock starts at the receiver's 202 and stops at
GitHub's 201 to the pull request's creation ("PR opened") or at the end of
the handler, labels set ("handled"). Calls per pull request are every API
call the stand-in received while handling, over the pull requests opened,
with the installation token already cached (it lives an hour; a first
event of an installation adds one call).

| measure | value | target |
| --- | ---: | --- |
| pull requests timed | $prs | |
| webhook accepted → PR opened, median | $p50 ms | under $TARGET_MS ms: $(met "$lat_ok") |
| webhook accepted → PR opened, p95 | $p95 ms | |
| webhook accepted → handled, median / p95 | $d50 / $d95 ms | |
| GitHub API calls per PR | $calls | at most $TARGET_CALLS: $(met "$calls_ok") |

Load and faults: $(kv "$lline" deliveries) deliveries to $(kv "$lline" repos) repositories on
$(kv "$lline" installations) installations, shuffled (fixed seed) and each sent twice
($(kv "$lline" sends) sends by four senders, of which $(kv "$lline" refused_503) answered 503 by the
full queue and sent again), handled by four workers; $(kv "$lline" handled) handled (the others
are events kmend does not queue), $(kv "$lline" real) of them doing real work, the rest no-ops.
GitHub answered $(kv "$lline" faults_500) calls with a 500 and $(kv "$lline" faults_secondary) with a secondary rate limit on
the way; every one was retried.

| load test (1,000 deliveries × 2) | expected | observed |
| --- | ---: | ---: |
| pull requests | $(kv "$lline" prs_expected) | $(kv "$lline" prs_observed) |
| comments | $(kv "$lline" comments_expected) | $(kv "$lline" comments_observed) |
| handler errors | 0 | $(kv "$lline" handler_errors) |
| result | every delivery accepted once and handled once, the end state exact | $(if [ "$load_ok" = 1 ]; then echo "**met** ($(kv "$lline" took))"; else echo "**not met** (test $result; see the log of the run)"; fi) |
EOF
