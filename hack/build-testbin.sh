#!/usr/bin/env bash
# Builds the test control plane (etcd and kube-apiserver) from the Go module proxy into
# $BIN_DIR/k8s/<version>-linux-amd64, the layout envtest's KUBEBUILDER_ASSETS expects.
# Each binary is skipped when it is already there. Everything is static (CGO_ENABLED=0).
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:?KUBE_VERSION is required, e.g. 1.37.2}
ETCD_VERSION=${ETCD_VERSION:?ETCD_VERSION is required, e.g. 3.6.8}
BIN_DIR=${BIN_DIR:?BIN_DIR is required}

out="$BIN_DIR/k8s/${KUBE_VERSION}-linux-amd64"
work="$BIN_DIR/.testbin-build"
mkdir -p "$out" "$work"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOWORK=off

build_etcd() {
  local dir="$work/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  cat >"$dir/go.mod" <<MOD
module modelsync.local/testbin/etcd

go 1.26
MOD
  printf 'package tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
  (cd "$dir" && go get "go.etcd.io/etcd/server/v3@v$ETCD_VERSION" >/dev/null \
     && go build -trimpath -ldflags "-s -w" -o "$out/etcd" go.etcd.io/etcd/server/v3)
}

build_apiserver() {
  local dir="$work/kube-$KUBE_VERSION" minor patch
  minor=$(echo "$KUBE_VERSION" | cut -d. -f2)
  patch=$(echo "$KUBE_VERSION" | cut -d. -f3)
  mkdir -p "$dir"
  # k8s.io/kubernetes points every staging module at ./staging; replace each
  # with the published k8s.io/<name> v0.<minor>.<patch> module instead.
  (cd "$dir" && go mod download -json "k8s.io/kubernetes@v$KUBE_VERSION" >kube.json)
  local gomod
  gomod=$(sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' "$dir/kube.json")
  {
    printf 'module modelsync.local/testbin/kube\n\ngo 1.26\n\nrequire k8s.io/kubernetes v%s\n\n' "$KUBE_VERSION"
    grep -E '^\s*k8s.io/[a-z0-9-]+ => \./staging/' "$gomod" \
      | awk -v v="v0.$minor.$patch" '{print "replace " $1 " => " $1 " " v}'
  } >"$dir/go.mod"
  printf 'package tools\n\nimport _ "k8s.io/kubernetes/cmd/kube-apiserver"\n' >"$dir/tools.go"
  (cd "$dir" && go mod tidy >/dev/null 2>&1 || true)
  (cd "$dir" && go build -trimpath \
     -ldflags "-s -w -X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor" \
     -o "$out/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver)
}

[ -x "$out/etcd" ] || { echo "building etcd v$ETCD_VERSION into $out"; build_etcd; }
[ -x "$out/kube-apiserver" ] || { echo "building kube-apiserver v$KUBE_VERSION into $out (cold: several minutes)"; build_apiserver; }
"$out/kube-apiserver" --version
"$out/etcd" --version | sed -n 1p  # sed reads everything: no SIGPIPE under pipefail
