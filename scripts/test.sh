#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls this script):
#   1. installs Debian packages and the pinned npm clients the e2e tests drive,
#   2. release build, every ctest label but `slow`,
#   3. the same suite under AddressSanitizer + UndefinedBehaviorSanitizer,
#   4. the concurrency tests (label `tsan`) and the thread pool with the kernels it drives, under
#      ThreadSanitizer,
#   (the release pass includes a bounded libFuzzer run of the image decoders, label `fuzz`).
# Ends with one line "tessera: N passed, M failed"; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
export JOBS="${JOBS:-2}"

bash scripts/install-deps.sh || exit 1
for dir in tests/server; do
  if [ -f "$dir/package-lock.json" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) || exit 1
  fi
done

passed=0; failed=0; status=0
run_ctest() {  # run_ctest NAME BUILD_DIR [ctest args...]
  local name="$1" dir="$2"; shift 2
  local log; log="$(mktemp)"
  echo "==== $name: ctest $*" >&2
  ctest --test-dir "$dir" --output-on-failure --timeout 600 -j "$JOBS" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local line; line="$(grep -E '[0-9]+% tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)"
  if [ -n "$line" ]; then
    local total fails
    total="$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")"
    fails="$(sed -E 's/.* ([0-9]+) tests? failed.*/\1/' <<<"$line")"
    passed=$((passed + total - fails)); failed=$((failed + fails))
  elif [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
  fi
  [ "$rc" -eq 0 ] || status=1
  rm -f "$log"
}

echo "==== release build" >&2
if scripts/build.sh release; then
  run_ctest release build -LE slow
else
  echo "release build failed" >&2; failed=$((failed + 1)); status=1
fi

echo "==== ASan+UBSan build" >&2
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp"
if scripts/build.sh asan; then
  run_ctest asan+ubsan build-asan -LE 'slow|fuzz'
else
  echo "ASan build failed" >&2; failed=$((failed + 1)); status=1
fi

echo "==== TSan build (concurrency tests)" >&2
if scripts/build.sh tsan tessera_store_tests tessera_store_concurrency_tests tessera_core_tests tessera_kernels_tests; then
  TSAN_OPTIONS="halt_on_error=1" run_ctest tsan build-tsan -L tsan
  # The spinning thread pool, alone and driving the GEMM and attention kernels.
  TSAN_OPTIONS="halt_on_error=1" run_ctest tsan-pool build-tsan -R '^(ThreadPool|LinearTest|AttentionTest)\.'
else
  echo "TSan build failed" >&2; failed=$((failed + 1)); status=1
fi

echo "tessera: $passed passed, $failed failed"
exit $status
