#!/usr/bin/env bash
# Installs everything tessera needs to build and test, from Debian 12's archive only.
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ca-certificates openssl python3
  libgtest-dev libgmock-dev libbenchmark-dev
  nlohmann-json3-dev libcli11-dev libfmt-dev
  libcurl4-openssl-dev libssl-dev zlib1g-dev
  libutf8proc-dev libpcre2-dev
  libjpeg62-turbo-dev libpng-dev libwebp-dev libtiff-dev libgif-dev
  # ocl-icd-opencl-dev: dnnl-config.cmake requires OpenCL (only a Recommends of libdnnl-dev)
  libdnnl-dev ocl-icd-opencl-dev libopenblas-dev libhnswlib-dev libcpp-httplib-dev
  clang-14 libclang-rt-14-dev
)
# Node.js runs the official npm clients in the e2e tests; the machine image may ship its own.
command -v node >/dev/null && command -v npm >/dev/null || PACKAGES+=(nodejs npm)

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present" >&2
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
