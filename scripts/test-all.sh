#!/usr/bin/env bash
# Command (b) of the README: install what the tests need, then lint, typecheck and run every test.
# Works on a fresh Debian 12 / Ubuntu machine as root. Installs Debian packages only where missing,
# npm dependencies from the lock file; starts no daemon (the test harness starts its own servers
# on loopback ports and never touches the machine's own PostgreSQL/Redis).
set -euo pipefail
cd "$(dirname "$0")/.."

# binary -> Debian package that provides it
declare -A need=(
  [/usr/bin/redis-server]=redis-server
  [/usr/bin/docker-registry]=docker-registry
  [/usr/bin/prometheus]=prometheus
  [/usr/bin/promtool]=prometheus
  [/usr/bin/skopeo]=skopeo
  [/usr/bin/zstd]=zstd
  [/usr/bin/openssl]=openssl
  [/usr/sbin/nft]=nftables
  [/usr/bin/ping]=iputils-ping
  [/usr/sbin/ip]=iproute2
  [/usr/bin/pgrep]=procps
  # lumen-api's image, built by `lumen image build`, runs under podman in the tests (private config, no daemon).
  [/usr/bin/podman]=podman
  [/usr/sbin/runc]=runc
  # every shell script the repository ships is judged by shellcheck (test/shellcheck.test.ts)
  [/usr/bin/shellcheck]=shellcheck
  # The arm64 single executable runs under qemu-user with Debian's arm64 cross C and C++ libraries as its root.
  [/usr/bin/qemu-aarch64-static]=qemu-user-static
  [/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1]=libc6-arm64-cross
  [/usr/aarch64-linux-gnu/lib/libstdc++.so.6]=libstdc++6-arm64-cross
)
missing=()
for bin in "${!need[@]}"; do [ -e "$bin" ] || missing+=("${need[$bin]}"); done
# PostgreSQL: any major version the distribution ships (Debian 12: 15, Ubuntu 24.04: 16); the harness picks the newest.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
  echo "test-all: installing Debian packages: $pkgs"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
fi

if ! command -v npm >/dev/null; then
  echo "test-all: npm is missing: installing Debian's nodejs and npm"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
fi

# Real engines the proofs drive (helm), built from pinned Go modules into a cache reused across runs.
echo "test-all: tools"
LUMEN_TOOLS_BIN=$(bash scripts/tools.sh)
export LUMEN_TOOLS_BIN

echo "test-all: npm ci"
npm ci --no-audit --no-fund --loglevel=error
# The pinned inputs of lumen-api's image (Debian packages, Node.js from npm), checked against lock.yaml and kept in
# ~/.cache/lumen/image-inputs, so the tests build the image without the network.
echo "test-all: image inputs"
npx lumen image fetch
npm run ci

# The platform as committed, proven with the real engines: gator for admission, kube-apiserver
# v1.36.4 (+ etcd) in dry run for schema and Pod Security.
echo "test-all: lumen check --server"
npx lumen check --server
