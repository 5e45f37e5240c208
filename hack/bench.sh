#!/usr/bin/env bash
# Benchmarks kmend against its peers and writes docs/benchmarks.md.
#
#   bash hack/bench.sh KMEND CACHE        (make bench does this)
#
# KMEND is the kmend binary to measure, CACHE a directory kept between runs
# (peer tools in CACHE/bin, the generated tree in CACHE/bench/). Knobs, for
# trying things out only (the committed docs/benchmarks.md uses defaults):
#   BENCH_RUNS=5       runs per measurement (the median is reported)
#   BENCH_QUICK_RUNS=21  runs of the commands that take milliseconds (start-up,
#                      scans of the ten-file corpora), whose medians the
#                      machine's noise moves most
#   BENCH_BUDGET=60s   no new run of a command once its runs took this long
#                      (one run always happens), to keep the bench near 10 min
#   BENCH_TIMEOUT=300  seconds one command may take before it is killed
#   BENCH_FILES=10000  files in the generated tree
#   BENCH_OUT=docs/benchmarks.md
#
# What it does: installs kube-score (pinned) and tries polaris, kube-linter
# and kubescape once each (a refusal is recorded, never fatal); generates
# the tree with hack/gen; times `kmend scan -o json`, `kube-score score` and
# `kmend fix` (on a fresh copy each run; `polaris fix` too where installed)
# with hack/benchrun on fixtures/demo-repo, fixtures/upstream and the tree;
# then, on copies, counts kube-score's and kmend's findings before and after
# `kmend fix` (and `--fixability auto,review`) and the comment/blank lines a
# fix lost. Nothing outside CACHE and a mktemp -d directory is written, but
# for BENCH_OUT.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: bash hack/bench.sh path/to/kmend CACHE_DIR" >&2
	exit 2
fi
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
KMEND=$(abspath "$1")
CACHE=$(abspath "$2")
if [ ! -f "$KMEND" ] || [ ! -x "$KMEND" ]; then
	echo "bench: $1: no kmend binary there: build kmend first (make build)" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
RUNS=${BENCH_RUNS:-5}
QUICK_RUNS=${BENCH_QUICK_RUNS:-21}
BUDGET=${BENCH_BUDGET:-60s}
TIMEOUT=${BENCH_TIMEOUT:-300}
NFILES=${BENCH_FILES:-10000}
OUT=$(abspath "${BENCH_OUT:-docs/benchmarks.md}")
KUBE_SCORE_VERSION=v1.20.0
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

mkdir -p "$CACHE/bin" "$CACHE/bench"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmend-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log() { printf 'bench: %s\n' "$*" >&2; }

# ---- tools -------------------------------------------------------------------
log "building hack/gen and hack/benchrun"
go build -o "$WORK/gen" ./hack/gen
go build -o "$WORK/benchrun" ./hack/benchrun
go build -o "$WORK/benchks" ./hack/benchks
BR="$WORK/benchrun"

# modver BIN: the main module version a Go binary was built from.
modver() { go version -m "$1" 2>/dev/null | awk '$1 == "mod" { print $3; exit }'; }

declare -A PEER_STATUS PEER_BIN
# install_peer NAME PACKAGE@VERSION BINARY: go install into CACHE/bin unless
# there already; records what happened, never fails the bench.
install_peer() {
	local name=$1 pkg=$2 bin=$3 out rc=0
	if [ -x "$CACHE/bin/$bin" ]; then
		PEER_BIN[$name]="$CACHE/bin/$bin"
		PEER_STATUS[$name]="installed ($(modver "$CACHE/bin/$bin"), cached)"
		return
	fi
	log "go install $pkg"
	out=$(cd "$WORK" && GOBIN="$CACHE/bin" GOFLAGS= timeout 600 go install "$pkg" 2>&1) || rc=$?
	if [ "$rc" -eq 0 ] && [ -x "$CACHE/bin/$bin" ]; then
		PEER_BIN[$name]="$CACHE/bin/$bin"
		PEER_STATUS[$name]="installed ($(modver "$CACHE/bin/$bin"))"
	else
		local first
		# first line of the error, with the proxy's address left out
		first=$(printf '%s\n' "$out" | grep -v '^go: downloading' | sed -n '/./{p;q}' |
			sed -E 's#https?://[^/ ]+#<module proxy>#g; s/\|/\\|/g')
		[ "$rc" -eq 124 ] && first="go install timed out after 600 s"
		PEER_STATUS[$name]="not installable here: ${first:-go install exited $rc}"
		log "$name: ${PEER_STATUS[$name]}"
	fi
}
install_peer kube-score "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION" kube-score
install_peer polaris "github.com/fairwindsops/polaris@latest" polaris
install_peer kube-linter "golang.stackrox.io/kube-linter/cmd/kube-linter@latest" kube-linter
install_peer kubescape "github.com/kubescape/kubescape/v3@latest" kubescape
KS=${PEER_BIN[kube-score]:-}
POLARIS=${PEER_BIN[polaris]:-}
KUBE_LINTER=${PEER_BIN[kube-linter]:-}

KMEND_VERSION=$("$KMEND" version 2>/dev/null | head -1 || true)
[ -n "$KMEND_VERSION" ] || KMEND_VERSION=$("$KMEND" --version 2>/dev/null | head -1 || true)
[ -n "$KMEND_VERSION" ] || KMEND_VERSION="unknown ($(git describe --tags --always --dirty 2>/dev/null || echo 'no git'))"

# ---- corpora -----------------------------------------------------------------
TREE="$CACHE/bench/tree-$NFILES"
log "generating $NFILES files into $TREE"
rm -rf "$TREE"
GEN_STATS=$("$WORK/gen" -out "$TREE" -n "$NFILES")
CORPORA=(demo-repo upstream "tree-$NFILES")
declare -A DIR
DIR[demo-repo]="$ROOT/fixtures/demo-repo"
DIR[upstream]="$ROOT/fixtures/upstream"
DIR[tree-$NFILES]="$TREE"

# list_yaml DIR: the manifest files under DIR, sorted.
list_yaml() { find "$1" -type f \( -name '*.yaml' -o -name '*.yml' \) | LC_ALL=C sort; }

CORPUS_ROWS=""
for c in "${CORPORA[@]}"; do
	list_yaml "${DIR[$c]}" >"$WORK/$c.list"
	files=$(wc -l <"$WORK/$c.list")
	bytes=$(xargs -d '\n' cat <"$WORK/$c.list" | wc -c)
	lines=$(xargs -d '\n' cat <"$WORK/$c.list" | wc -l)
	CORPUS_ROWS+="| $c | $files | $lines | $bytes |"$'\n'
done

# ---- speed -------------------------------------------------------------------
# measure TABLE LABEL [benchrun run flags] -- CMD...: one row; a failed
# measurement is recorded as such and the bench goes on. N=runs before it
# overrides RUNS.
measure() {
	local table=$1 label=$2
	shift 2
	if ! "$BR" run -n "${N:-$RUNS}" -budget "$BUDGET" -timeout "${TIMEOUT}s" -label "$label" \
		-md "$WORK/$table.md" -tsv "$WORK/$table.tsv" "$@" >/dev/null; then
		log "$label: failed (recorded in the table)"
		return 1
	fi
}
# Start-up: each tool's version command, which reads no input.
log "speed: start-up"
N=$QUICK_RUNS measure scan "kmend version (start-up)" -- "$KMEND" version || true
if [ -n "$KS" ]; then
	N=$QUICK_RUNS measure scan "kube-score version (start-up)" -- "$KS" version || true
fi
declare -A FIX_FAILED
# The last run's outputs are kept for the next section: the scan reports
# (findings before) and the tree the last `kmend fix` run fixed.
for c in "${CORPORA[@]}"; do
	d=${DIR[$c]}
	n=$RUNS
	[ "$c" = "tree-$NFILES" ] || n=$QUICK_RUNS
	log "speed: $c"
	N=$n measure scan "kmend scan -o json ($c)" -stdout "$WORK/$c.kmend.json" -- "$KMEND" scan -o json "$d" || true
	if [ -n "$KS" ]; then
		N=$n measure scan "kube-score score ($c)" -stdout "$WORK/$c.kube-score.txt" -args-from "$WORK/$c.list" -- "$KS" score -o ci || true
	fi
	if [ -n "$KUBE_LINTER" ]; then
		measure scan "kube-linter lint ($c)" -- "$KUBE_LINTER" lint "$d" || true
	fi
	if [ -n "$POLARIS" ]; then
		measure scan "polaris audit ($c)" -- "$POLARIS" audit --audit-path "$d" --format json || true
	fi
	if measure fix "kmend fix ($c)" -setup "rm -rf '$WORK/fixcopy' && cp -R '$d' '$WORK/fixcopy'" \
		-- "$KMEND" fix "$WORK/fixcopy"; then
		mv "$WORK/fixcopy" "$WORK/$c.fixed-auto"
	else
		FIX_FAILED[$c]=1
	fi
	if [ -n "$POLARIS" ]; then
		measure fix "polaris fix ($c)" -setup "rm -rf '$WORK/fixcopy' && cp -R '$d' '$WORK/fixcopy'" \
			-- "$POLARIS" fix --files-path "$WORK/fixcopy" --checks=all || true
	fi
done
rm -rf "$WORK/fixcopy"

# s SECONDS: "1.234 s", or "n/a".
s() { if [ "$1" = NA ]; then echo "n/a"; else echo "$1 s"; fi; }
# median TABLE LABEL: the median seconds of a row, or NA.
median() { awk -F'\t' -v l="$2" '$1 == l { m = $2 } END { print (m == "" ? "NA" : m) }' "$WORK/$1.tsv"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 == 0) print "NA"; else printf "%.2f", a / b }'; }

# ms A B: (A - B) in milliseconds, or NA.
ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%+.0f ms", (a - b) * 1000 }'; }
K_START=$(median scan "kmend version (start-up)")
KS_START=NA
[ -n "$KS" ] && KS_START=$(median scan "kube-score version (start-up)")
RATIO_ROWS=""
SCAN_MET=0
SCAN_TOTAL=0
SCAN_MISSED=""
for c in "${CORPORA[@]}"; do
	k=$(median scan "kmend scan -o json ($c)")
	ks=NA
	[ -n "$KS" ] && ks=$(median scan "kube-score score ($c)")
	r=$(ratio "$k" "$ks")
	# The same ratio without each tool's start-up.
	rw=$(awk -v a="$k" -v b="$ks" -v sa="$K_START" -v sb="$KS_START" 'BEGIN {
		if (a == "NA" || b == "NA" || sa == "NA" || sb == "NA" || b - sb <= 0) print "NA"; else printf "%.2f", (a - sa) / (b - sb) }')
	verdict="not measured"
	if [ "$r" != NA ]; then
		SCAN_TOTAL=$((SCAN_TOTAL + 1))
		if awk -v r="$r" 'BEGIN { exit !(r <= 1.0) }'; then
			verdict="met"
			SCAN_MET=$((SCAN_MET + 1))
		else
			verdict="not met"
			SCAN_MISSED+="$c ($(ms "$k" "$ks") in all, a ratio of $rw without start-up)"$'\n'
		fi
	fi
	kf=$(median fix "kmend fix ($c)")
	pf=NA
	[ -n "$POLARIS" ] && pf=$(median fix "polaris fix ($c)")
	RATIO_ROWS+="| $c | $(s "$k") | $(s "$ks") | $r | $rw | $verdict | $(s "$kf") | $(s "$pf") | $(ratio "$kf" "$pf") |"$'\n'
done

# ---- quality of the fixes ----------------------------------------------------
# Every command here is limited to TIMEOUT seconds too.
T() { timeout "$TIMEOUT" "$@"; }
# ks_lines FILE: "critical warning" lines of a kube-score -o ci output.
ks_lines() { echo "$(grep -c '^\[CRITICAL\]' "$1" || true) $(grep -c '^\[WARNING\]' "$1" || true)"; }
# ks_count DIR: the same, for kube-score run on DIR's files.
ks_count() {
	if [ -z "$KS" ]; then
		echo "NA NA"
		return
	fi
	local files rc=0
	mapfile -t files < <(list_yaml "$1")
	T "$KS" score -o ci "${files[@]}" >"$WORK/ks.out" 2>"$WORK/ks.err" || rc=$?
	if [ "$rc" -gt 1 ]; then
		log "kube-score exited $rc on $1: $(head -1 "$WORK/ks.err")"
		echo "NA NA"
		return
	fi
	ks_lines "$WORK/ks.out"
}
# ks_json DIR OUT: kube-score -o json on DIR's files, into OUT; fails when
# kube-score cannot be run or fails.
ks_json() {
	[ -n "$KS" ] || return 1
	local files rc=0
	mapfile -t files < <(list_yaml "$1")
	T "$KS" score -o json "${files[@]}" >"$2" 2>"$WORK/ks.err" || rc=$?
	[ "$rc" -le 1 ] || { log "kube-score -o json exited $rc on $1: $(head -1 "$WORK/ks.err")"; return 1; }
}
# km_count DIR: "total auto review manual" findings of kmend scan -o json.
km_count() {
	local rc=0
	T "$KMEND" scan -o json "$1" >"$WORK/km.json" 2>"$WORK/km.err" || rc=$?
	if [ "$rc" -gt 1 ] || ! "$BR" findings "$WORK/km.json" 2>/dev/null; then
		log "kmend scan exited $rc on $1: $(head -1 "$WORK/km.err")"
		echo "NA NA NA NA"
	fi
	rm -f "$WORK/km.json"
}
# fix_copy FROM TO [FLAGS]: copy FROM to TO and run kmend fix FLAGS on it;
# fails when kmend fix fails or times out.
fix_copy() {
	local from=$1 to=$2 rc=0
	shift 2
	cp -R "$from" "$to"
	T "$KMEND" fix "$@" "$to" >"$WORK/fix.out" 2>&1 || rc=$?
	if [ "$rc" -gt 1 ]; then
		log "kmend fix $* exited $rc on $from: $([ "$rc" -eq 124 ] && echo "timed out after $TIMEOUT s" || head -1 "$WORK/fix.out")"
		return 1
	fi
}
sub() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else print a - b }'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA" || b + 0 <= 0) print "NA"; else printf "%.2f", a / b }'; }

QUALITY_ROWS=""
KS_GROUP_ROWS=""
KS_GROUP_KNOWN=1
KS_AUTO_LEFT=0
KS_REVIEW_LEFT=0
FORMAT_ROWS=""
LOST_TOTAL=0
LOST_KNOWN=1
for c in "${CORPORA[@]}"; do
	log "quality: $c"
	d=${DIR[$c]}
	q="$WORK/q"
	rm -rf "$q"
	mkdir -p "$q"
	# before: the speed section's last outputs, or a fresh run
	if [ -s "$WORK/$c.kube-score.txt" ]; then
		read -r ks_c0 ks_w0 <<<"$(ks_lines "$WORK/$c.kube-score.txt")"
	else
		read -r ks_c0 ks_w0 <<<"$(ks_count "$d")"
	fi
	if [ -s "$WORK/$c.kmend.json" ] && counts=$("$BR" findings "$WORK/$c.kmend.json" 2>/dev/null); then
		read -r km0 km0_auto km0_review km0_manual <<<"$counts"
	else
		read -r km0 km0_auto km0_review km0_manual <<<"$(km_count "$d")"
	fi
	rm -f "$WORK/$c.kmend.json" "$WORK/$c.kube-score.txt"
	# after: the speed section's last fixed tree, or a fresh fix; and
	# --fixability auto,review
	declare -A OK=([auto]=1 [review]=1)
	if [ -n "${FIX_FAILED[$c]:-}" ]; then
		# it failed or timed out above already: do not wait for it twice
		OK=([auto]=0 [review]=0)
	elif [ -d "$WORK/$c.fixed-auto" ]; then
		mv "$WORK/$c.fixed-auto" "$q/auto"
	else
		fix_copy "$d" "$q/auto" || OK[auto]=0
	fi
	if [ "${OK[review]}" -eq 1 ]; then
		fix_copy "$d" "$q/review" --fixability auto,review || OK[review]=0
	fi
	declare -A KSC KSW KM
	for mode in auto review; do
		KSC[$mode]=NA KSW[$mode]=NA KM[$mode]=NA
		if [ "${OK[$mode]}" -eq 1 ]; then
			read -r "KSC[$mode]" "KSW[$mode]" <<<"$(ks_count "$q/$mode")"
			read -r "KM[$mode]" _ _ _ <<<"$(km_count "$q/$mode")"
		fi
	done
	# kube-score's findings grouped by how kmend fixes them (hack/benchks)
	KSG_AUTO="" KSG_REVIEW=""
	if [ "${OK[auto]}" -eq 1 ] && [ "${OK[review]}" -eq 1 ] && ks_json "$d" "$q/ks0.json" &&
		ks_json "$q/auto" "$q/ks-auto.json" && ks_json "$q/review" "$q/ks-review.json" &&
		"$WORK/benchks" "$q/ks0.json" "$q/ks-auto.json" "$q/ks-review.json" >"$q/ksg.txt" 2>"$WORK/ksg.err"; then
		{ read -r -a KSG_AUTO; read -r -a KSG_REVIEW; } <"$q/ksg.txt"
		# auto_b auto_a review_b review_a manual_b manual_a unmapped_b unmapped_a
		KS_GROUP_ROWS+="| $c | ${KSG_AUTO[0]} → **${KSG_AUTO[1]}** | ${KSG_REVIEW[0]} → ${KSG_REVIEW[1]} | ${KSG_AUTO[2]} → ${KSG_AUTO[3]} | ${KSG_REVIEW[2]} → **${KSG_REVIEW[3]}** | ${KSG_AUTO[4]} → ${KSG_AUTO[5]} | ${KSG_AUTO[6]} → ${KSG_AUTO[7]} |"$'\n'
		KS_AUTO_LEFT=$((KS_AUTO_LEFT + KSG_AUTO[1]))
		KS_REVIEW_LEFT=$((KS_REVIEW_LEFT + KSG_REVIEW[3]))
	else
		KS_GROUP_ROWS+="| $c | not measured | | | | | |"$'\n'
		KS_GROUP_KNOWN=0
	fi
	QUALITY_ROWS+="| $c | $ks_c0 / $ks_w0 | ${KSC[auto]} / ${KSW[auto]} | ${KSC[review]} / ${KSW[review]} | $km0 ($km0_auto auto, $km0_review review, $km0_manual manual) | ${KM[auto]} | ${KM[review]} |"$'\n'
	for mode in auto review; do
		flag=$([ "$mode" = auto ] && echo "auto (default)" || echo "auto,review")
		if [ "${OK[$mode]}" -ne 1 ]; then
			FORMAT_ROWS+="| $c | $flag | not measured: kmend fix failed or timed out (see the log of the run) | | | | | |"$'\n'
			LOST_KNOWN=0
			continue
		fi
		fixed_n=$(sub "$km0" "${KM[$mode]}")
		if read -r files lost added removed changed < <("$BR" formatting "$d" "$q/$mode" 2>"$WORK/fmt.err"); then
			LOST_TOTAL=$((LOST_TOTAL + lost))
		else
			log "formatting $c/$mode: $(head -1 "$WORK/fmt.err")"
			files=NA lost=NA added=NA removed=NA changed=NA
			LOST_KNOWN=0
		fi
		FORMAT_ROWS+="| $c | $flag | $files | $lost | +$added / -$removed | $changed | $fixed_n | $(div "$changed" "$fixed_n") |"$'\n'
	done
	rm -rf "$q"
done

# ---- the report ----------------------------------------------------------------
CPU=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
MEM=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
BUSY_NOTE=""
if awk -v l="${LOAD_START%% *}" -v n="$(nproc)" 'BEGIN { exit !(l + 0 > n + 0) }'; then
	BUSY_NOTE=$'\n'"**The machine was busy** (load average ${LOAD_START%% *} on $(nproc) cores when the run started): wall times are inflated; compare ratios rather than absolute times, or rerun on an idle machine."$'\n'
fi

POLARIS_RESCAN=""
[ -n "$POLARIS" ] || POLARIS_RESCAN=" The same re-scan with polaris is not measured: polaris is ${PEER_STATUS[polaris]}."
if [ -z "$KS" ]; then
	KS_CLAIM="not measured (kube-score could not be run)."
elif [ "$KS_GROUP_KNOWN" -eq 1 ] && [ "$KS_AUTO_LEFT" -eq 0 ] && [ "$KS_REVIEW_LEFT" -eq 0 ]; then
	KS_CLAIM="**none is left** on any corpus."
else
	KS_CLAIM="$KS_AUTO_LEFT left after \`kmend fix\`, $KS_REVIEW_LEFT after \`--fixability auto,review\`$([ "$KS_GROUP_KNOWN" -eq 1 ] || echo ", where measured")."
fi
if [ "$SCAN_TOTAL" -eq 0 ]; then
	SCAN_VERDICT="not measured: kube-score could not be run here (${PEER_STATUS[kube-score]})."
elif [ "$SCAN_MET" -eq "$SCAN_TOTAL" ]; then
	SCAN_VERDICT="**met** on all $SCAN_TOTAL corpora (kmend scan's median is at most kube-score's)."
else
	SCAN_VERDICT="**not met** on $((SCAN_TOTAL - SCAN_MET)) of $SCAN_TOTAL corpora (met on $SCAN_MET): $(paste -sd'|' <<<"${SCAN_MISSED%$'\n'}" | sed 's/|/; /g'). Start-up alone is $(s "$K_START") for kmend and $(s "$KS_START") for kube-score ($(ms "$K_START" "$KS_START")): kmend is one binary that links the Helm SDK, client-go, go-git and go-github, whose packages initialise on every run (docs/design.md)."
fi
if [ -n "$POLARIS" ]; then
	FIX_VERDICT=""
	for c in "${CORPORA[@]}"; do
		r=$(ratio "$(median fix "kmend fix ($c)")" "$(median fix "polaris fix ($c)")")
		v="not measured"
		if [ "$r" != NA ]; then
			v=$(awk -v r="$r" 'BEGIN { print (r <= 0.5 ? "**met**" : "**not met**") }')
		fi
		FIX_VERDICT+="- $c: kmend fix / polaris fix = $r: $v"$'\n'
	done
else
	FIX_VERDICT="**not measured here**: polaris is ${PEER_STATUS[polaris]}. Without it there is no figure to hold kmend fix to; kmend fix's own times are in the fix table."
fi
if [ "$LOST_KNOWN" -eq 1 ] && [ "$LOST_TOTAL" -eq 0 ]; then
	LOST_VERDICT="**met**: no comment or blank line was lost by any fix."
elif [ "$LOST_KNOWN" -eq 1 ]; then
	LOST_VERDICT="**not met**: $LOST_TOTAL comment or blank lines were lost (see the table)."
else
	LOST_VERDICT="**not measured** for every corpus (see the table); $LOST_TOTAL lost where measured."
fi

# More sections: each hack/bench/*.sh prints one Markdown section (## ...)
# measured in this run (Go benchmarks of the source mapping, the GitHub App
# loop...). A section that fails is recorded as such.
EXTRA=""
for part in hack/bench/*.sh; do
	[ -e "$part" ] || continue
	log "section $(basename "$part")"
	if out=$(bash "$part" "$KMEND" "$CACHE" 2>"$WORK/part.err"); then
		EXTRA+="$out"$'\n\n'
	else
		EXTRA+="## $(basename "$part" .sh)"$'\n\n'"Not measured: $(basename "$part") failed: $(tail -n 3 "$WORK/part.err" | tr '\n' ' ')"$'\n\n'
	fi
done
ELAPSED=$(($(date +%s) - START))

{
	cat <<EOF
# Benchmarks

Generated by \`make bench\` (hack/bench.sh) on
$(date -u '+%Y-%m-%d %H:%M UTC'); the whole run took ${ELAPSED} s. Do not edit by
hand: rerun it. Every number below was measured in that run, except where a
line says "context only".
$BUSY_NOTE
## Machine

| | |
| --- | --- |
| CPU | ${CPU:-unknown} |
| cores (nproc) | $(nproc) |
| memory | ${MEM:-unknown} |
| OS | $(uname -sr) $(uname -m) |
| Go | $(go version | sed 's/^go version //') |
| load average (1, 5, 15 min) | at start: $LOAD_START; at the end: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) |

## Tools

| tool | version / status |
| --- | --- |
| kmend | $KMEND_VERSION |
| kube-score | ${PEER_STATUS[kube-score]} |
| polaris | ${PEER_STATUS[polaris]} |
| kube-linter | ${PEER_STATUS[kube-linter]} |
| kubescape | ${PEER_STATUS[kubescape]}${PEER_BIN[kubescape]:+ (not timed: it fetches its controls over the network)} |

## Corpora

| corpus | YAML files | lines | bytes |
| --- | ---: | ---: | ---: |
${CORPUS_ROWS}
- \`demo-repo\` is fixtures/demo-repo, a small shop's platform repository
  (see fixtures/README.md).
- \`upstream\` is fixtures/upstream: unmodified manifests of
  GoogleCloudPlatform/microservices-demo, kubernetes/examples (guestbook)
  and stefanprodan/podinfo (see each NOTICE.md).
- \`tree-$NFILES\` is generated by \`go run ./hack/gen -n $NFILES\` (seed 1,
  deterministic): $GEN_STATS.

## Speed

Each command ran $RUNS times ($QUICK_RUNS for the version commands and the
scans of the ten-file corpora, which take milliseconds), or fewer where its runs had already taken
$BUDGET in total or one was killed after $TIMEOUT s (the "runs" column says);
the median, min and max wall times and the peak resident set size of the
child (getrusage Maxrss) are reported. The load average above says how busy
the machine was. kube-score
takes files, not directories: it is given the corpus's file list as
arguments (one process). \`kmend fix\` and \`polaris fix\` run on a fresh copy
of the corpus each time; the copy is not timed.

### Scan

$(cat "$WORK/scan.md" 2>/dev/null || echo "(no measurement)")

### Fix

$(cat "$WORK/fix.md" 2>/dev/null || echo "(no measurement)")

### Ratios

"Without start-up" subtracts each tool's median start-up (its version
command, in the scan table) from its scan: what reading and checking the
corpus cost.

| corpus | kmend scan | kube-score | kmend / kube-score | without start-up | scan target | kmend fix | polaris fix | kmend / polaris |
| --- | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |
${RATIO_ROWS}
## What the fixes do

Findings before and after \`kmend fix\` on a copy of each corpus: kube-score's
(\`-o ci\` lines, CRITICAL / WARNING) and kmend's own (\`scan -o json\`).

| corpus | kube-score before | after fix | after fix --fixability auto,review | kmend before | after fix | after fix --fixability auto,review |
| --- | --- | --- | --- | --- | ---: | ---: |
${QUALITY_ROWS}
kube-score's own findings (an object and a check that failed on it,
critical or warning) grouped by how kmend fixes them: each kube-score check
maps through the catalog's foreign IDs to kmend controls, and counts as
"auto" only when every control it maps to is fixed by default (hack/benchks,
on \`kube-score score -o json\` before and after). The bold figures are
what each fix mode claims to clear: $KS_CLAIM

| corpus | auto: before → after fix | auto: → after auto,review | review: before → after fix | review: → after auto,review | manual | no kmend control |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${KS_GROUP_ROWS}
Formatting kept, per fixed copy: "comment/blank lines lost" counts the lines
of each changed file that are comments or blank in the original and missing
from the fixed file (exact lines, as a multiset: a CRLF line turned LF counts
as lost). "lines changed" is the size of a minimal line diff, each hunk
counted as max(added, removed); "findings fixed" is kmend's findings before
minus after.

| corpus | fixability | files changed | comment/blank lines lost | lines +added / -removed | lines changed | findings fixed | lines changed per finding fixed |
| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |
${FORMAT_ROWS}
## Targets, as measured

- **Scan no slower than kube-score**: $SCAN_VERDICT
- **Fix in at most half of \`polaris fix\`'s time**: $FIX_VERDICT
- **No formatting lost (comment and blank lines kept)**: $LOST_VERDICT
- **A re-scan with kube-score shows the fixed findings gone** (its findings on checks that map to controls kmend fixes): $KS_CLAIM$POLARIS_RESCAN

$EXTRA
## Running it

\`\`\`sh
make bench                        # builds bin/kmend, then runs hack/bench.sh
bash hack/bench.sh bin/kmend .cache
\`\`\`

Peers are installed with \`go install\` into \`.cache/bin\` on the first run
and reused after. A peer the module proxy refuses is recorded above as "not
installable here" and the bench goes on without it. BENCH_RUNS and
BENCH_FILES change the number of runs and the tree's size, for trying things
out; the numbers here use the defaults.
EOF
} >"$WORK/benchmarks.md"
mkdir -p "$(dirname "$OUT")"
mv "$WORK/benchmarks.md" "$OUT"
log "wrote $OUT in ${ELAPSED} s"
