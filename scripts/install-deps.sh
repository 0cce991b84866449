#!/usr/bin/env bash
# Installs the Debian packages caserepo needs to build, test, benchmark and
# fuzz. Idempotent: packages already present are left as they are.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config python3
  clang libclang-rt-14-dev          # libFuzzer + sanitizer runtimes
  libboost-dev                      # Boost headers: CRC, Container, Uuid
  libboost-serialization-dev        # snapshot payloads
  libcereal-dev                     # log record payloads
  libroaring-dev                    # per-value posting bitmaps
  nlohmann-json3-dev                # JSON wire format (CLI, server)
  libssl-dev                        # caserepo-server: TLS (OpenSSL)
  libsodium-dev                     # caserepo-server: Argon2id password hashes
  libnats-dev                       # caserepo-server: NATS JetStream ingestion and change feed
  nats-server                       # tests: the JetStream servers the event tests start
  openssl                           # tests: a self-signed certificate for the TLS test
  chromium chromium-driver python3-selenium   # tests: the console in a real browser
  libgtest-dev libgmock-dev         # unit tests
  libbenchmark-dev                  # benchmarks
  libsqlite3-dev                    # benchmark peer
)

# bench/http/run.sh's peers and load generators (not needed to build or test).
if [ "${1:-}" = "--bench" ]; then
  packages+=(nginx wrk postgresql-15 curl)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends "${packages[@]}"
