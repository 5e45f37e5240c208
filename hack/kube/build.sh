#!/usr/bin/env bash
# Builds a real kube-apiserver and etcd from Go modules (no prebuilt binaries
# can be downloaded here) and caches them by version under CACHE/kube/VERSION.
# Each lives in its own throwaway module so kmend's go.mod stays small.
# Usage: hack/kube/build.sh CACHE_DIR
set -euo pipefail
cache=${1:?usage: build.sh CACHE_DIR}
KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
STAGING_VERSION=${STAGING_VERSION:-v0.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
out="$cache/kube/$KUBE_VERSION"
mkdir -p "$out"
cache=$(cd "$cache" && pwd)
out=$(cd "$out" && pwd)

if [ ! -x "$out/etcd" ]; then
  echo "kube: building etcd $ETCD_VERSION (about a minute)" >&2
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  cat > "$work/main.go" <<'GO'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
GO
  (cd "$work" && go mod init kmend.test/etcd >/dev/null 2>&1 &&
    go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >/dev/null 2>&1 &&
    go mod tidy >/dev/null 2>&1 &&
    go build -o "$out/etcd.tmp" . && mv "$out/etcd.tmp" "$out/etcd")
  rm -rf "$work"; trap - EXIT
fi

if [ ! -x "$out/kube-apiserver" ]; then
  echo "kube: building kube-apiserver $KUBE_VERSION (6-12 minutes on 2 cores, once)" >&2
  work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/.*"GoMod": "\(.*\)",*/\1/p')
  {
    echo "module kmend.test/kube-apiserver"
    echo
    sed -n 's/^go \(.*\)/go \1/p' "$gomod" | head -n 1
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # kubernetes replaces its staging modules with local paths; a module
    # that requires it must name the published versions instead.
    sed -n 's#^[[:space:]]*\(k8s.io/[^ ]*\) => ./staging/.*#\t\1 => \1 '"$STAGING_VERSION"'#p' "$gomod"
    echo ")"
  } > "$work/go.mod"
  cat > "$work/tools.go" <<'GO'
//go:build tools

package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
GO
  (cd "$work" && { go mod tidy >"$work/tidy.log" 2>&1 || { cat "$work/tidy.log" >&2; exit 1; }; } &&
    go build -o "$out/kube-apiserver.tmp" \
      -ldflags "-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)" \
      k8s.io/kubernetes/cmd/kube-apiserver &&
    mv "$out/kube-apiserver.tmp" "$out/kube-apiserver")
  rm -rf "$work"; trap - EXIT
fi
echo "$out"
