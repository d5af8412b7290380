#!/usr/bin/env bash
# Builds the image-decoder fuzzer with clang-14 (-fsanitize=fuzzer,address,undefined) and runs it
# for a bounded time, seeded with ../shared/data/images/. CI calls this (ctest label `fuzz` runs
# it too, with a short budget).
#   tests/fuzz/run_image_fuzz.sh [SECONDS=60] [BUILD_DIR=build-fuzz]
# Exit status: 0 when the run finished without a finding, non-zero otherwise (the crashing
# input is left in BUILD_DIR/fuzz-artifacts/).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
build="${2:-build-fuzz}"
shared="${TESSERA_SHARED_DIR:-$(cd .. && pwd)/shared}"
CC="${CC_FUZZ:-clang-14}"
CXX="${CXX_FUZZ:-clang++-14}"
mkdir -p "$build/fuzz-artifacts" "$build/fuzz-corpus"
binary="$build/image_decode_fuzz"
if [[ ! -x "$binary" || "$binary" -ot tests/fuzz/image_decode_fuzz.cpp || -n "$(find src/image include/tessera/image.hpp -newer "$binary" 2>/dev/null | head -1)" ]]; then
  flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
         -Iinclude -Isrc $(pkg-config --cflags libjpeg libpng libwebp libwebpdemux libtiff-4 libcurl))
  sources=(tests/fuzz/image_decode_fuzz.cpp src/image/decode.cpp src/image/jpeg_decoder.cpp src/image/png_decoder.cpp
           src/image/webp_decoder.cpp src/image/tiff_decoder.cpp src/image/gif_decoder.cpp src/image/bmp_decoder.cpp
           src/image/resize.cpp src/image/preprocess.cpp src/image/fetch.cpp src/core/mapped_file.cpp src/core/error.cpp)
  echo "building $binary with $CXX" >&2
  "$CXX" "${flags[@]}" "${sources[@]}" -o "$binary" \
    $(pkg-config --libs libjpeg libpng libwebp libwebpdemux libtiff-4 libcurl) -lgif
fi
# Seeds: the shared test images (the corpus dir keeps what the fuzzer finds between runs).
"$binary" -max_total_time="$seconds" -max_len=262144 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 \
  "$build/fuzz-corpus" "$shared/data/images"
