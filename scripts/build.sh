#!/usr/bin/env bash
# Configures and builds one flavour of tessera.
#   scripts/build.sh [release|asan|tsan] [ninja targets...]
# Build directories: build/ (release), build-asan/, build-tsan/.
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"; shift || true
JOBS="${JOBS:-2}"
case "$flavour" in
  release) dir=build;      flags=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan)    dir=build-asan; flags=(-DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O1 -DTESSERA_SANITIZE=address,undefined -DTESSERA_BUILD_BENCH=OFF) ;;
  tsan)    dir=build-tsan; flags=(-DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS=-O1 -DTESSERA_SANITIZE=thread -DTESSERA_BUILD_BENCH=OFF) ;;
  *) echo "usage: scripts/build.sh [release|asan|tsan] [targets...]" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja "${flags[@]}" >/dev/null
ninja -C "$dir" -j "$JOBS" "$@"
