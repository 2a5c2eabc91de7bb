#!/usr/bin/env bash
# The external engines lumen drives and the tests run, built from their Go modules at pinned
# versions into one tool cache that is filled once and reused (a warm cache costs nothing).
#
#   bash scripts/tools.sh          build what is missing, print the cache's bin directory last
#   LUMEN_TOOLS=/some/dir bash …   use another cache (default: ~/.cache/lumen/tools)
#
# Each tool lands in $LUMEN_TOOLS/bin/<tool>, next to a stamp file naming the module and version
# it was built from: a changed pin rebuilds that tool only. Only the Go module proxy is used.
set -euo pipefail

tools=${LUMEN_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/lumen/tools}
bin=$tools/bin
mkdir -p "$bin"

# name | module path of the main package | version | ldflags (the version the binary reports)
# helm: the 3.x line Argo CD renders with (lumen renders charts exactly as Argo CD would).
pins=(
  "helm|helm.sh/helm/v3/cmd/helm|v3.21.4|-X helm.sh/helm/v3/internal/version.version=v3.21.4 -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
)

if ! command -v go >/dev/null; then
  echo "tools: go is missing: installing Debian's golang-go" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq --no-install-recommends golang-go ca-certificates >/dev/null
fi

# helm v3.21 needs Go 1.24 or newer (its go.mod); Debian 12's golang-go is 1.19.
gov=$(go env GOVERSION | sed 's/^go//')
if [ "$(printf '%s\n1.24\n' "${gov%%[!0-9.]*}" | sort -V | head -1)" != 1.24 ]; then
  echo "tools: go $gov is too old: the pinned tools need Go 1.24 or newer (put a newer go first on PATH)" >&2
  exit 4
fi

for pin in "${pins[@]}"; do
  IFS='|' read -r name module version ldflags <<<"$pin"
  stamp="$bin/.$name.stamp"
  want="$module@$version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    continue
  fi
  echo "tools: building $name from $want (once; cached in $bin)" >&2
  started=$SECONDS
  # CGO off: static binaries that do not depend on the build machine's C library.
  CGO_ENABLED=0 GOBIN="$bin" GOFLAGS=-trimpath go install -ldflags "-s -w $ldflags" "$want"
  echo "$want" >"$stamp"
  echo "tools: $name built in $((SECONDS - started)) s" >&2
done
echo "$bin"
