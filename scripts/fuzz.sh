#!/usr/bin/env bash
# Build the libFuzzer harnesses (tests/fuzz/build.sh) and run each for SECONDS, one after the
# other, on its corpus (seeded from the repository's configs and the harness's own seeds):
#   scripts/fuzz.sh SECONDS [HARNESS...]   (default: every harness; FUZZ_BUILD=DIR, FUZZ_JOBS=N)
# Prints executions, crashes, leaks, timeouts, out-of-memory stops and memory errors inside libhdf5
# (HDF5's own, reported apart) per harness; exits non-zero on any other finding (the inputs are
# kept in BUILD_DIR/artifacts/HARNESS/, see tests/fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
all=(arch network policy replication run sweep weights idx)
if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh SECONDS [HARNESS...]   (harnesses: ${all[*]})" >&2
    exit 2
fi
seconds=$1
shift
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")
for h in "${harnesses[@]}"; do
    [[ " ${all[*]} " == *" $h "* ]] || { echo "fuzz.sh: unknown harness $h (${all[*]})" >&2; exit 2; }
done
out=${FUZZ_BUILD:-$root/build-fuzz}
tests/fuzz/build.sh "$out"

# The corpus of harness $1: repository files, then what the harness writes in seed mode.
seed() {
    local h=$1 dir=$out/corpus/$1
    mkdir -p "$dir"
    case $h in
    arch) cp configs/arch/*.cfg "$dir/" ;;
    network) cp configs/net/*.cfg "$dir/" ;;
    sweep) for f in configs/sweep/*.cfg configs/examples/*/study.cfg; do
        cp "$f" "$dir/$(echo "$f" | tr / _)"
    done ;;
    run) cp tests/fuzz/seeds/run/*.cfg "$dir/" ;;
    *) FUZZ_SEEDS=$dir "$out/fuzz_$h" >/dev/null 2>&1 ;;
    esac
}

printf '%-12s %8s %12s %8s %6s %9s %5s %5s\n' harness seconds executions crashes leaks timeouts \
    ooms hdf5
findings=0
work=$out/work
mkdir -p "$work"
# The harnesses' input files (fuzz.h), removed after each harness. On tmpfs when there is one:
# on ext4 every input's truncate-and-close forces a write-back, which cost the file-reading
# harnesses (policy, replication, run) 70 % of their time in the kernel.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    export TMPDIR=/dev/shm/xbarsim-fuzz.$$
    trap 'rm -rf "$TMPDIR"' EXIT
else
    export TMPDIR=$out/tmp
fi
export LSAN_OPTIONS=suppressions=$root/tests/fuzz/lsan.supp:print_suppressions=0
# malloc returns NULL on an impossible size as it does outside ASan: HDF5 then fails the open, and
# xbarsim's own allocations still abort (mem.c) or trip libFuzzer's -malloc_limit_mb.
export ASAN_OPTIONS=allocator_may_return_null=1:quarantine_size_mb=64
for h in "${harnesses[@]}"; do
    rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
    seed "$h"
    art=$out/artifacts/$h
    mkdir -p "$art"
    dict=()
    [ -f "tests/fuzz/$h.dict" ] && dict=(-dict="$root/tests/fuzz/$h.dict")
    maxlen=8192
    [ "$h" = weights ] && maxlen=65536
    mkdir -p "$out/logs"
    log=$out/logs/$h.log
    touch "$out/logs/$h.start"
    before=$(find "$art" -maxdepth 1 -type f | wc -l)
    # stdin is /dev/null and the folder a scratch one: a path an input names reads nothing there.
    status=0
    (cd "$work" && "$out/fuzz_$h" "${dict[@]}" -max_len=$maxlen -timeout=10 -rss_limit_mb=2048 \
        -max_total_time="$seconds" -print_final_stats=1 -artifact_prefix="$art/" \
        "$out/corpus/$h" </dev/null >"$log" 2>&1) || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#')
    crashes=$(grep -c 'ERROR: libFuzzer: deadly signal\|ERROR: AddressSanitizer\|runtime error:' "$log" || true)
    leaks=$(grep -c 'ERROR: LeakSanitizer' "$log" || true)
    timeouts=$(grep -c 'ERROR: libFuzzer: timeout' "$log" || true)
    ooms=$(grep -c 'ERROR: libFuzzer: out-of-memory\|ERROR: libFuzzer: malloc' "$log" || true)
    # HDF5 1.10.8 overruns buffers, loops or asks for absurd sizes on some corrupt files
    # (tests/fuzz/README.md). A crash, timeout or out-of-memory stop whose innermost frame (past
    # the sanitizer, libFuzzer, the interceptors, libc and malloc) is inside libhdf5 is HDF5's,
    # counted apart, its input kept in $art/hdf5/. An out-of-memory stop without a stack (the RSS
    # limit) stays a finding.
    hdf5=0
    if [ $((crashes + timeouts + ooms)) -eq 1 ] &&
        sed -n '/ERROR: \(AddressSanitizer\|libFuzzer\)/,/^$/p' "$log" | grep '^ *#[0-9]' |
        grep -v '__sanitizer\|fuzzer::\|__interceptor\|libc\.so\|in \(malloc\|calloc\|realloc\|free\) ' |
            head -1 | grep -q 'libhdf5'; then
        hdf5=1
        crashes=0
        timeouts=0
        ooms=0
        mkdir -p "$art/hdf5"
        find "$art" -maxdepth 1 -type f \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
            -newer "$out/logs/$h.start" -exec mv {} "$art/hdf5/" \;
        status=0
    fi
    printf '%-12s %8s %12s %8s %6s %9s %5s %5s\n' "$h" "$seconds" "${execs:-0}" "$crashes" \
        "$leaks" "$timeouts" "$ooms" "$hdf5"
    rm -rf "$TMPDIR"
    after=$(find "$art" -maxdepth 1 -type f | wc -l)
    if [ "$status" -ne 0 ] || [ "$after" -gt "$before" ] ||
        [ $((crashes + leaks + timeouts + ooms)) -gt 0 ]; then
        findings=$((findings + 1))
        echo "  finding: exit $status, log $log, inputs in $art/" >&2
    fi
done
[ "$findings" -eq 0 ] || { echo "fuzz.sh: $findings harness(es) with findings" >&2; exit 1; }
echo "fuzz.sh: no findings"
