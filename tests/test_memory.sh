#!/usr/bin/env bash
# test_memory: memory stays bounded whatever --inferences. Ten million inferences of a one-layer
# network run under a 200 MB address-space limit (ulimit -v; the process needs about 76 MB with
# one OpenBLAS thread, and per-inference records kept for every inference would add 200 MB), and
# the totals are checked by hand.
# Skipped (exit 77) in a sanitizer build, whose shadow memory needs terabytes of address space.
# Usage: test_memory.sh XBARSIM_BINARY BUILD_DIR. Prints "N passed, N failed".
set -u
bin=$1
build=$2
if grep -q '^XBARSIM_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
    echo "skipped: sanitizer build"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

cat >"$tmp/tiny.cfg" <<'NET'
network = {
    name = "tiny";
    input = { features = 8; tokens = 1; };
    layers = ( { name = "fc"; type = "linear"; in_features = 8; out_features = 4; } );
};
NET
n=10000000
export OPENBLAS_NUM_THREADS=1 # OpenBLAS reserves address space per thread (and hangs at exit
                              # when a limit stopped it from starting them)
expect "1e7 inferences in 200 MB" 0 '' -- \
    sh -c "ulimit -v 200000 && '$bin' run --net '$tmp/tiny.cfg' --inferences $n --trace none -q -o '$tmp/t.h5'"
# By hand on lrmp (cycle 5208 ps): T_in 64 bits in one 8-lane transfer = 5208; T_tile 8 steps x
# 1 row group x ceil(32 columns / 8 ADCs) = 4 rounds = 32 cycles = 166656; T_out 32 partial sums
# x 16 bits = 16 words on 8 lanes = 2 cycles = 10416; T_d 36 lane ops on 64 lanes = 5208:
# 187488 ps of work. Over lrmp's off-chip link (12.8 GB/s, 26.7 ns): the input, 8 bytes = 64 bits,
# in 26700 + ceil(64 x 125 / 12.8) = 27325 ps; the output, 32 bits, in 26700 + ceil(312.5) = 27013:
# 241826 ps an inference; one layer cannot overlap itself, so the period is the latency and the
# makespan is n x 241826 ps. /summary/inferences keeps the last 65536.
expect "totals exact" 0 "^10000000 241826 241826.0 2418260000000 65536 9934464$" -- \
    /usr/bin/python3 -c "import h5py; f = h5py.File('$tmp/t.h5'); n = f['/summary/network'][0]; \
print(n['inferences'], n['latency_ps'], n['period_ps'], n['makespan_ps'], \
len(f['/summary/inferences']), f['/summary/inferences'][0]['inference'])"
expect "file consistent" 0 '^consistent$' -- \
    /usr/bin/python3 "$(dirname "$0")/../scripts/xbarsim_trace.py" check "$tmp/t.h5" --no-events
finish
