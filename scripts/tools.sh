#!/usr/bin/env bash
# The external engines lumen drives and the tests run, built from their Go modules at pinned
# versions into one tool cache that is filled once and reused (a warm cache costs nothing).
#
#   bash scripts/tools.sh          build what is missing, print the cache's bin directory last
#   LUMEN_TOOLS=/some/dir bash …   use another cache (default: ~/.cache/lumen/tools)
#
# Each tool lands in $LUMEN_TOOLS/bin/<tool>, next to a stamp file naming the module and version
# it was built from: a changed pin rebuilds that tool only. Only the Go module proxy is used.
# Most tools are `go install module@version`; a tool whose module cannot be installed that way
# (kube-apiserver, etcd: their go.mod replaces sibling modules by local paths) is built from a
# small module of ours under tools/<name>/ that requires it, with go.sum pinning every dependency.
set -euo pipefail

tools=${LUMEN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/lumen/tools}
bin=$tools/bin
mkdir -p "$bin"

# name | module path of the main package, or ./tools/<name> | version | ldflags (the version the binary reports)
# [| GOEXPERIMENT, where upstream's own release build sets one]
# helm: the 3.x line Argo CD renders with (lumen renders charts exactly as Argo CD would).
# gator: Gatekeeper's own policy engine at the Gatekeeper version the inventory deploys.
# kube-apiserver: the Kubernetes version of the inventory's K3s (v1.36.4+k3s1); etcd: the version
# that Kubernetes release is tested with (build/dependencies.yaml of k8s.io/kubernetes v1.36.4).
# referrers-registry: go-containerregistry's registry (what `crane registry serve` runs) with its OCI 1.1 referrers
# API on: neither Debian's Distribution 2.8 nor Distribution v3.0.0 serves that API, and the SBOM's subject must
# reach it where a registry does.
# cosign: the real cosign, which must accept what `lumen sign` signs and sign what `lumen verify` accepts.
# trivy: the scanner `lumen image scan` runs (needs encoding/json/v2: jsonv2, as its goreleaser build);
# trivy-db-fixture: writes the tiny databases the scan tests run it on, with the trivy-db trivy v0.74.0 requires.
k8s=v1.36.4
pins=(
  "helm|helm.sh/helm/v3/cmd/helm|v3.21.4|-X helm.sh/helm/v3/internal/version.version=v3.21.4 -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  "gator|github.com/open-policy-agent/gatekeeper/v3/cmd/gator|v3.23.1|-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=v3.23.1"
  "kube-apiserver|./tools/kube-apiserver|$k8s|-X k8s.io/component-base/version.gitVersion=$k8s -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/component-base/version.gitTreeState=clean"
  "etcd|./tools/etcd|v3.6.8|"
  "cosign|github.com/sigstore/cosign/v3/cmd/cosign|v3.1.3|-X sigs.k8s.io/release-utils/version.gitVersion=v3.1.3 -X sigs.k8s.io/release-utils/version.gitTreeState=clean"
  "trivy|github.com/aquasecurity/trivy/cmd/trivy|v0.74.0|-X github.com/aquasecurity/trivy/pkg/version/app.ver=0.74.0|jsonv2"
  "trivy-db-fixture|./tools/trivy-db-fixture|v0.0.0-20260813095258-0e0340a01b57|"
  "referrers-registry|./tools/referrers-registry|v0.21.9|"
)
root=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v go >/dev/null; then
  echo "tools: go is missing: installing Debian's golang-go" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends golang-go ca-certificates >/dev/null
fi

# gator v3.23 and Kubernetes v1.36 need Go 1.26 or newer (their go.mod); Debian 12's golang-go is 1.19.
gov=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n1.26\n' "${gov%%[!0-9.]*}" | sort -V | head -1)" != 1.26 ]; then
  echo "tools: go $gov is too old: the pinned tools need Go 1.26 or newer (put a newer go first on PATH)" >&2
  exit 4
fi

for pin in "${pins[@]}"; do
  IFS='|' read -r name module version ldflags experiment <<<"$pin"
  stamp="$bin/.$name.stamp"
  want="$module@$version"
  if [[ $module == ./* ]]; then
    # A module of ours: its go.mod/go.sum/main.go are the pin (a changed file rebuilds).
    want="$module@$version $(cat "$root/$module"/go.mod "$root/$module"/go.sum "$root/$module"/*.go | sha256sum | cut -c1-16)"
  fi
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    continue
  fi
  echo "tools: building $name from $want (once; cached in $bin)" >&2
  started=$SECONDS
  # CGO off: static binaries that do not depend on the build machine's C library.
  if [[ $module == ./* ]]; then
    (cd "$root/$module" && CGO_ENABLED=0 GOEXPERIMENT="$experiment" GOFLAGS='-trimpath -mod=readonly' go build -ldflags "-s -w $ldflags" -o "$bin/$name" .)
  else
    CGO_ENABLED=0 GOEXPERIMENT="$experiment" GOBIN="$bin" GOFLAGS=-trimpath go install -ldflags "-s -w $ldflags" "$want"
  fi
  echo "$want" >"$stamp"
  echo "tools: $name built in $((SECONDS - started)) s" >&2
done
# Python tools (ansible-core, ansible-lint, yamllint, testinfra) from PyPI at the versions of
# tools/python/requirements.txt, into a virtual environment of the cache; a changed file reinstalls.
venv=$tools/python
want="pip $(sha256sum "$root/tools/python/requirements.txt" | cut -c1-16)"
if [ ! -x "$venv/bin/ansible-lint" ] || [ "$(cat "$bin/.python.stamp" 2>/dev/null)" != "$want" ]; then
  if ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    echo "tools: python3-venv is missing: installing Debian's python3-venv" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  fi
  echo "tools: installing the Python tools of tools/python/requirements.txt (once; cached in $venv)" >&2
  started=$SECONDS
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/tools/python/requirements.txt" >&2
  echo "$want" >"$bin/.python.stamp"
  echo "tools: Python tools installed in $((SECONDS - started)) s" >&2
fi
for tool in ansible ansible-playbook ansible-lint yamllint; do ln -sf "$venv/bin/$tool" "$bin/$tool"; done

echo "$bin"
