#!/usr/bin/env bash
# make demo: kmend's main job on the embedded fixtures, offline.
# Usage: hack/demo.sh PATH/TO/kmend [PATH/TO/demoloop]
set -euo pipefail
kmend=${1:?usage: demo.sh PATH/TO/kmend [PATH/TO/demoloop]}
demoloop=${2:-}
cd "$(dirname "$0")/.."
repo=fixtures/demo-repo
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$repo" "$work/repo"

step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "$2"; }

# scan and score exit 1 when they find something: that is the point here,
# but any other failure (2) must stop the demo.
expect() {
  local want=$1; shift
  set +e; "$@"; local got=$?; set -e
  if [ "$got" -ne "$want" ]; then echo "demo: '$*' exited $got, want $want" >&2; exit 1; fi
}

step "The posture of a sample platform repository, riskiest findings first" "kmend score $repo --top 8"
"$kmend" score "$repo" --top 8

step "From a live-cluster view (a snapshot): each finding traced to the file that defines it" "kmend locate fixtures/live/snapshot.yaml --repo $repo --repo-url https://github.com/example-shop/platform --min-severity high"
"$kmend" locate fixtures/live/snapshot.yaml --repo "$repo" --repo-url https://github.com/example-shop/platform --min-severity high

step "Why each control fails in one app: unset, risky or inherited" "kmend scan $repo/apps/storefront --min-severity medium"
expect 1 "$kmend" scan --no-color --min-severity medium "$repo/apps/storefront"

step "Explain the finding at a line: why, the fix, and the patch to copy" "kmend explain $repo/apps/payments/deployment.yaml:53"
"$kmend" explain "$repo/apps/payments/deployment.yaml:53"

step "The automatic fixes as a diff (nothing written)" "kmend fix $repo/apps/storefront --dry-run"
"$kmend" fix "$work/repo/apps/storefront" --dry-run | sed "s#$work/repo#$repo#g"

step "Fix the whole repository (auto fixes), then score again" "kmend fix $repo && kmend score $repo"
"$kmend" fix "$work/repo" | sed "s#$work/repo#$repo#g" | tail -n 4
"$kmend" score "$work/repo" --top 0 | sed -n 1p

step "With the fixes that need a human's review too" "kmend fix $repo --fixability auto,review"
"$kmend" fix "$work/repo" --fixability auto,review | sed "s#$work/repo#$repo#g" | tail -n 3
"$kmend" score "$work/repo" --top 0 | sed -n 1p

if [ -n "$demoloop" ]; then
	step "The GitHub App loop, offline: a GitHub stand-in checked against GitHub's API description, a real git server, kmend's webhook receiver and bot" "kmend serve (in process): installation → onboarding pull request; push → fix pull request; the same push again → nothing new"
	"$demoloop" -repo "$repo" -lines 40 -out .cache/demo
fi
