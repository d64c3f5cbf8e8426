#!/bin/sh
# Runs one fuzz target for SECONDS on a scratch copy of its seed corpus:
#   GT_FUZZ_CORPUS=fuzz/corpus/NAME GT_FUZZ_WORK=DIR run_one.sh TARGET SECONDS
# New corpus entries and crash files go under GT_FUZZ_WORK, never into the repository. Exits
# with libFuzzer's status (non-zero on a crash, leak or failed invariant).
set -eu
target="$1"
seconds="$2"
# UBSan reports with a stack, like ASan; -fno-sanitize-recover already makes them fatal.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
rm -rf "$GT_FUZZ_WORK"
mkdir -p "$GT_FUZZ_WORK/corpus" "$GT_FUZZ_WORK/crashes"
cp "$GT_FUZZ_CORPUS"/* "$GT_FUZZ_WORK/corpus/"
exec "$target" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
  -artifact_prefix="$GT_FUZZ_WORK/crashes/" "$GT_FUZZ_WORK/corpus"
