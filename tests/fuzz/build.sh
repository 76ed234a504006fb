#!/bin/sh
# Build the libFuzzer harnesses of every loader (tests/fuzz/fuzz_*.c) with clang, AddressSanitizer
# and UBSan: the libraries with -fsanitize=fuzzer-no-link, each harness with libFuzzer's main.
#   tests/fuzz/build.sh [BUILD_DIR]   (default: build-fuzz under the repository root; the
#                                      harnesses land in BUILD_DIR/fuzz_<name>)
# Needs clang with libFuzzer (Debian 12: clang, whose runtime libclang_rt.fuzzer comes with
# libclang-common-14-dev) and libomp-dev for OpenMP; scripts/bootstrap.sh installs both.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-"$root/build-fuzz"}
cc=${CC_FUZZ:-clang}
command -v "$cc" >/dev/null || { echo "build.sh: $cc not found (scripts/bootstrap.sh installs clang)" >&2; exit 1; }
cmake -S "$root" -B "$out" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_FLAGS="-g -O1 -fsanitize=fuzzer-no-link" -DXBARSIM_SANITIZE=ON \
    -DXBARSIM_FUZZ=ON -DXBARSIM_TESTS=OFF -DXBARSIM_BENCH=OFF -DXBARSIM_MPI=OFF >/dev/null
cmake --build "$out" -j "$(nproc 2>/dev/null || echo 2)" \
    --target fuzz_arch fuzz_network fuzz_policy fuzz_replication fuzz_run fuzz_sweep \
    fuzz_weights fuzz_idx >/dev/null
echo "built $(cd "$out" && ls fuzz_* | tr '\n' ' ')in $out"
