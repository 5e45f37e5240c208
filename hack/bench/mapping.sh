#!/usr/bin/env bash
# The "Source mapping at scale" section of docs/benchmarks.md: prints one
# Markdown section on standard output (hack/bench.sh includes it); the
# progress goes to standard error.
#
#   bash hack/bench/mapping.sh KMEND CACHE
#
# Corpora come from hack/gen-gitops (a GitOps repository of plain
# manifests, kustomize bases and overlays, Argo CD Applications and Flux
# Kustomizations, and the live snapshot of what it deploys) and are kept
# in CACHE/bench-mapping/<hash of the generator>/objects-N: they are made
# again only when the generator changes. Then, per size, `kmend locate`
# runs end to end under hack/benchrun (wall time, peak RSS) and its report
# is checked against where the generator put every object; at the largest
# size hack/benchmapping splits the time into phases, and measures
# internal/overlay's render cache. Knobs, for trying things out only:
#   MAPPING_SIZES="5000 10000 25000 50000"   live objects per corpus
#   MAPPING_RUNS=3                           runs of kmend locate per size
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: bash hack/bench/mapping.sh path/to/kmend CACHE_DIR" >&2
	exit 2
fi
abspath() { case $1 in /*) printf '%s\n' "$1" ;; *) printf '%s\n' "$PWD/$1" ;; esac; }
KMEND=$(abspath "$1")
CACHE=$(abspath "$2")
if [ ! -x "$KMEND" ]; then
	echo "mapping: $1: no kmend binary there" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
read -r -a SIZES <<<"${MAPPING_SIZES:-5000 10000 25000 50000}"
RUNS=${MAPPING_RUNS:-3}
URL=https://github.com/kmend-bench/gitops
START=$(date +%s)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
log() { printf 'mapping: %s\n' "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kmend-mapping.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
log "building hack/gen-gitops, hack/benchmapping, hack/benchrun"
go build -o "$WORK/gen" ./hack/gen-gitops
go build -o "$WORK/bm" ./hack/benchmapping
go build -o "$WORK/benchrun" ./hack/benchrun

# ---- corpora -------------------------------------------------------------------
KEY=$(cat hack/gen-gitops/main.go | sha256sum | cut -c1-16)
BASE="$CACHE/bench-mapping/$KEY"
mkdir -p "$BASE"
# corpora of an older generator go
for old in "$CACHE/bench-mapping"/*; do
	[ "$old" = "$BASE" ] || rm -rf "$old"
done
for n in "${SIZES[@]}"; do
	d="$BASE/objects-$n"
	if [ ! -s "$d/stats.txt" ]; then
		log "generating $n live objects into $d"
		rm -rf "$d" "$d.partial"
		"$WORK/gen" -out "$d.partial" -objects "$n" >"$WORK/stats.txt"
		mv "$WORK/stats.txt" "$d.partial/stats.txt"
		mv "$d.partial" "$d"
	fi
done
# stat N KEY: a value of the generator's stats line.
stat() { tr ' ' '\n' <"$BASE/objects-$1/stats.txt" | awk -F= -v k="$2" '$1 == k { print $2 }'; }
# fmtn N: N with thousands separators.
fmtn() { sed -E ':a;s/^([0-9]+)([0-9]{3})/\1,\2/;ta' <<<"$1"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---- end to end ----------------------------------------------------------------
ROWS=""
REPORT_BYTES=0
FINDINGS=NA
LAST=${SIZES[${#SIZES[@]}-1]}
declare -A WALL RSS CHECK
for n in "${SIZES[@]}"; do
	d="$BASE/objects-$n"
	log "kmend locate: $n live objects"
	rm -f "$WORK/report.json"
	# The report goes to a file through the shell, which then becomes
	# kmend (exec): benchrun's -stdout would hold it in benchrun's memory,
	# competing for the cores being measured.
	if "$WORK/benchrun" run -n "$RUNS" -timeout 600s -label "$n" -tsv "$WORK/locate.tsv" \
		-- sh -c 'exec "$0" "$@" >"'"$WORK/report.json"'"' "$KMEND" locate "$d/live" --repo "$d/repo" --repo-url "$URL" -o json >/dev/null; then
		IFS=$'\t' read -r _ w _ _ r _ _ < <(awk -F'\t' -v l="$n" '$1 == l' "$WORK/locate.tsv")
		WALL[$n]=$w RSS[$n]=$r
		CHECK[$n]=$("$WORK/gen" check "$d/expect.tsv" "$WORK/report.json" 2>/dev/null | head -1 || true)
		if [ "$n" = "$LAST" ]; then
			REPORT_BYTES=$(wc -c <"$WORK/report.json")
			FINDINGS=$(grep -c '"control": ' "$WORK/report.json" || true)
		fi
	else
		WALL[$n]=NA RSS[$n]=NA CHECK[$n]=""
	fi
	# located=N correct=N wrong=N missing=N unreported=N other=N via=...
	kv() { tr ' ' '\n' <<<"${CHECK[$n]}" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
	deployments=$(stat "$n" deployments)
	if [ -n "${CHECK[$n]}" ]; then
		correct="$(fmtn "$(kv correct)") of $(fmtn "$deployments")"
		[ "$(kv wrong)" = 0 ] && [ "$(kv missing)" = 0 ] || correct+=" ($(kv wrong) wrong, $(kv missing) not located)"
	else
		correct="not checked"
	fi
	if [ "${WALL[$n]}" = NA ]; then
		ROWS+="| $(fmtn "$n") | $(mib "$(stat "$n" live-bytes)") | $(fmtn "$(stat "$n" files)") | $(stat "$n" kustomizations) | $correct | failed (see the log) | | |"$'\n'
		continue
	fi
	ROWS+="| $(fmtn "$n") | $(mib "$(stat "$n" live-bytes)") | $(fmtn "$(stat "$n" files)") | $(stat "$n" kustomizations) | $correct | ${WALL[$n]} s | $(awk -v k="${RSS[$n]}" 'BEGIN { printf "%.0f MiB", k / 1024 }') | $(fmtn "$(awk -v n="$n" -v s="${WALL[$n]}" 'BEGIN { printf "%.0f", n / s }')") |"$'\n'
done
VIA=$(tr ' ' '\n' <<<"${CHECK[$LAST]:-}" | awk -F= '$1 == "via" { print $2 }' | sed 's/:/ /g; s/,/, /g')
FIRST=${SIZES[0]}
GROWTH=$(awk -v n0="$FIRST" -v n1="$LAST" -v f0="$(fmtn "$FIRST")" -v f1="$(fmtn "$LAST")" -v w0="${WALL[$FIRST]:-NA}" -v w1="${WALL[$LAST]:-NA}" -v r0="${RSS[$FIRST]:-NA}" -v r1="${RSS[$LAST]:-NA}" 'BEGIN {
	if (n0 == n1 || w0 == "NA" || w1 == "NA" || r0 == "NA" || r1 == "NA") exit
	k = n1 / n0
	how = (w1 / w0 <= 1.3 * k && r1 / r0 <= 1.3 * k) ? "no faster than the input" : "faster than the input"
	printf "From %s to %s live objects (%.0f times as many), the wall time grew %.1f times and the peak RSS %.1f times, %s: about %.2f ms and %.0f KiB per added live object.", f0, f1, k, w1 / w0, r1 / r0, how, (w1 - w0) * 1000 / (n1 - n0), (r1 - r0) / (n1 - n0)
}')

# ---- phases ----------------------------------------------------------------------
d="$BASE/objects-$LAST"
log "phases: $LAST live objects, as kmend locate does it"
"$WORK/bm" phases -repo "$d/repo" -repo-url "$URL" "$d/live" >"$WORK/phases-today.txt" || : >"$WORK/phases-today.txt"
log "phases: $LAST live objects, the general path (files parsed whole and kept, then checked)"
"$WORK/bm" phases -general -repo "$d/repo" -repo-url "$URL" "$d/live" >"$WORK/phases-next.txt" || : >"$WORK/phases-next.txt"
# ph FILE PHASE [FIELD]: seconds (field 2), live heap MiB after it (3) or
# MiB allocated (4) of a phase; for "total": seconds (2), peak RSS MiB (3).
ph() { awk -v p="$2" -v f="${3:-2}" '$1 == p { print $f; found = 1 } END { if (!found) print "NA" }' "$WORK/$1"; }
sum() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.3f", a + b }'; }
PHASE_ROWS=""
# cell FILE PHASE: "seconds s | live MiB" of a phase, or a note when the
# phase is part of the load.
cell() {
	if [ "$(ph "$1" "$2")" = NA ] && [ "$(ph "$1" load)" != NA ]; then
		echo "in the load | "
	else
		echo "$(ph "$1" "$2") s | $(ph "$1" "$2" 3) MiB"
	fi
}
for p in load:"read the snapshot (manifest.Load: YAML parsing; kmend locate checks each object as it is read)" \
	owners:"keep the objects no other object controls" check:"check them (built-in catalog)" \
	mapper:"build the Mapper" index:"index the checkout (first Locate)" \
	locate:"locate the other objects with findings"; do
	k=${p%%:*}
	PHASE_ROWS+="| ${p#*:} | $(cell phases-today.txt "$k") | $(cell phases-next.txt "$k") |"$'\n'
done
PHASE_ROWS+="| **total** (peak RSS) | **$(ph phases-today.txt total) s** | $(ph phases-today.txt total 3) MiB | **$(ph phases-next.txt total) s** | $(ph phases-next.txt total 3) MiB |"$'\n'
CORR_TODAY=$(sum "$(ph phases-today.txt index)" "$(ph phases-today.txt locate)")
CORR_NEXT=$(sum "$(ph phases-next.txt index)" "$(ph phases-next.txt locate)")
CORR_ALLOC=$(awk -v a="$(ph phases-today.txt index 4)" -v b="$(ph phases-today.txt locate 4)" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.0f", a + b }')
CORR_KEEP=$(awk -v a="$(ph phases-today.txt mapper 3)" -v b="$(ph phases-today.txt index 3)" 'BEGIN { if (a == "NA" || b == "NA") print "NA"; else printf "%.0f", b - a }')

# ---- the render cache --------------------------------------------------------
log "render cache: $LAST live objects' repository ($(stat "$LAST" kustomizations) kustomizations)"
"$WORK/bm" cache -repo "$d/repo" >"$WORK/cache.txt" || : >"$WORK/cache.txt"
KUSTS=$(awk '$1 == "kustomizations" { print $2 }' "$WORK/cache.txt")
CACHE_ROWS=""
for s in cold:"cold cache: every kustomization rendered; the fixes of one overlay planned and verified" \
	unchanged:"the same plan again" \
	fixes-written:"after its fixes are written (Result.Write)" \
	patch-changed:"after another overlay's patch file is edited" \
	base-changed:"after a file of a third app's base is edited"; do
	secs="" builds="" fixes="" files=""
	read -r _ secs builds fixes files < <(awk -v s="${s%%:*}" '$1 == s' "$WORK/cache.txt") || true
	CACHE_ROWS+="| ${s#*:} | ${builds:-NA} | ${fixes:-NA} fixes, ${files:-NA} files | ${secs:-NA} s |"$'\n'
done

# ---- the verdict ---------------------------------------------------------------
met() { awk -v s="$1" -v r="$2" 'BEGIN { if (s == "NA" || r == "NA") print "not measured"; else if (s < 5 && r < 1048576) print "**met**"; else print "**not met**" }'; }
E2E_VERDICT=$(met "${WALL[$LAST]:-NA}" "${RSS[$LAST]:-NA}")
CORR_VERDICT=$(awk -v s="$CORR_TODAY" 'BEGIN { if (s == "NA") print "not measured"; else if (s < 5) print "**met**"; else print "**not met**" }')
ELAPSED=$(($(date +%s) - START))

cat <<EOF
## Source mapping at scale

\`kmend locate LIVE --repo REPO --repo-url URL -o json\` on corpora made by
\`go run ./hack/gen-gitops -objects N\` (seed 1, deterministic; the
repository has N/5 files and N/100 kustomizations). The repository holds
plain manifests (a Deployment and its Service per file), kustomize apps of
one base (ten workloads) and four overlays (namespace, most a namePrefix, a
patch by name and a patch by target), the Argo CD Applications (an
app-of-apps) and Flux Kustomizations that deploy them. The snapshot is what
\`kubectl get deploy,rs,pods,svc -n NS -o yaml\` prints for every namespace,
server-set fields and status included: each Deployment with its ReplicaSet
(a fifth also an old one scaled to zero) and Pods, and its Service, plus
the Applications, Kustomizations and GitRepository. Each deployed unit is
tracked one way: Argo CD tracking-id (half of the overlays also with
kustomize origin annotations) or instance label, Flux labels (half with
origin annotations), origin annotations only, kmend's own annotations, or
nothing (found by search). Every Deployment has findings; "located
correctly" compares the report with the file, document and route the
generator recorded for it. $RUNS runs per size under hack/benchrun (the
median wall time, the peak RSS of the process); the load average was $LOAD_START when this
section started (2 cores: above 2, other work shared the machine).

| live objects | snapshot | repository files | kustomizations | Deployments located correctly | wall | peak RSS | live objects/s |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${ROWS}
Routes taken at $(fmtn "$LAST") objects: ${VIA:-not measured}. ${GROWTH}

### Where the time goes, at $(fmtn "$LAST") live objects

The same work in one process (hack/benchmapping phases), phase by phase,
on GOMAXPROCS goroutines. The first column does what \`kmend locate\`
does: the snapshot is read with \`manifest.Options.DropControlled\` (a
List's items are cut apart as text; the Pods and ReplicaSets another item
controls are dropped after a look at their heads, never parsed whole) and
each object kept is checked as it is read, and only its head (apiVersion,
kind, metadata) kept. The second is the general path that scan and fix
take: every file parsed whole and kept, then the objects checked.

| phase | as kmend locate | live heap after | the general path | live heap after |
| --- | ---: | ---: | ---: | ---: |
${PHASE_ROWS}
"Live heap" is the Go heap after a collection that ends each phase (not
timed). The correlation proper, indexing the checkout and locating every
object with findings, takes ${CORR_TODAY} s (${CORR_NEXT} s on the general path):
it allocates ${CORR_ALLOC} MiB in all, and the index it builds keeps ${CORR_KEEP} MiB.
The rest is reading the snapshot, $(mib "$(stat "$LAST" live-bytes)") of YAML, into
the node trees that checks work on, and checking the objects;
\`kmend locate\` then also writes the JSON report ($(mib "$REPORT_BYTES"), $(fmtn "$FINDINGS") findings),
which accounts for most of the difference between its wall time above and
this total.

### Target: $(fmtn "$LAST") live objects, $(fmtn "$(stat "$LAST" files)") files, $(stat "$LAST" kustomizations) kustomizations, under 5 s and 1 GiB

- End to end, \`kmend locate\` on the YAML snapshot: ${E2E_VERDICT}
  (${WALL[$LAST]:-NA} s, peak RSS $(awk -v k="${RSS[$LAST]:-NA}" 'BEGIN { if (k == "NA") print "NA"; else printf "%.0f MiB", k / 1024 }')).
- The correlation (index the checkout, locate every object with findings,
  objects in memory): ${CORR_VERDICT} (${CORR_TODAY} s; it allocates ${CORR_ALLOC} MiB,
  its index keeps ${CORR_KEEP} MiB).
- Reading and checking the snapshot took $(ph phases-today.txt load) s in process
  ($(ph phases-next.txt load) s to read and $(ph phases-next.txt check) s to check on the general path,
  peak RSS $(ph phases-next.txt total 3) MiB for its whole run); the rest of the wall
  time is writing the JSON report.

### Render cache

internal/overlay's Plan on the $(fmtn "$(stat "$LAST" files)")-file repository (${KUSTS:-NA}
kustomizations), fixing one overlay (\`Options.Paths\`), one \`Cache\`
throughout (hack/benchmapping cache). "Kustomize builds" are the
renderings built in that step, not served by the cache (\`Cache.Stats\`):
a plan renders every kustomization as it is (for the invariant), then
each fix laid over the kustomizations it affects.

| step | kustomize builds | planned | wall |
| --- | ---: | ---: | ---: |
${CACHE_ROWS}
Verifying a fix renders only the kustomizations that read a file it
changes; once written, the repository needs no rendering (the verified
rendering is the cached one), and an edit elsewhere renders only what
reads the edited file. This section took ${ELAPSED} s.
EOF
