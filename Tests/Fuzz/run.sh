#!/usr/bin/env bash
# Runs every fuzz target of pirec-fuzz (built by `make fuzz-build`) for SECONDS each, one
# after another, from the committed seeds into a scratch corpus, and prints what each did:
# executions, coverage (edges and features) and corpus size. A crash, leak, hang or
# sanitizer report stops it with the input saved under .build/fuzz-findings/.
#   Tests/Fuzz/run.sh SECONDS [TARGET...]
set -euo pipefail
seconds=${1:?usage: run.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(png configuration safetensors names)
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fuzzer=$root/.build/fuzz/debug/pirec-fuzz
findings=$root/.build/fuzz-findings
[ -x "$fuzzer" ] || { echo "run.sh: $fuzzer is missing; run make fuzz-build" >&2; exit 1; }
mkdir -p "$findings"
printf '%-14s %10s %10s %8s %8s %8s\n' target seconds executions edges features corpus
for target in "${targets[@]}"; do
    work=$root/.build/fuzz-corpus/$target
    mkdir -p "$work"
    dict=()
    [ -e "$here/$target.dict" ] && dict=(-dict="$here/$target.dict")
    log=$findings/$target.log
    if ! PIREC_FUZZ_TARGET=$target PIREC_FUZZ_PLUGINS=$root/.build/debug \
        ASAN_OPTIONS=detect_leaks=1 SWIFT_BACKTRACE=enable=no "$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$findings/$target-" "${dict[@]}" \
        "$work" "$here/corpus/$target" > "$log" 2>&1; then
        tail -40 "$log" >&2
        echo "run.sh: $target found a problem; its input is under $findings (log $log)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    edges=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<< "$last")
    features=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<< "$last")
    corpus=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<< "$last")
    printf '%-14s %10s %10s %8s %8s %8s\n' "$target" "$seconds" "$runs" "$edges" "$features" "$corpus"
done
