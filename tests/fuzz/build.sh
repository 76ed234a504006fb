#!/bin/sh
# Build the libFuzzer harness of the arch loader with clang, AddressSanitizer and UBSan.
#   tests/fuzz/build.sh [output]      (default: build-fuzz/fuzz_arch under the repository root)
# Needs clang with libFuzzer (Debian 12: the clang package; the runtime is libclang_rt.fuzzer in
# libclang-common-14-dev) and libconfig-dev. Not part of CI; see tests/fuzz/README.md.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-"$root/build-fuzz/fuzz_arch"}
cc=${CC_FUZZ:-clang}
mkdir -p "$(dirname "$out")"
# shellcheck disable=SC2046 # pkg-config prints several words on purpose
"$cc" -std=c11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -D_POSIX_C_SOURCE=200809L -Wall -Wextra \
    -I"$root/engine" -I"$root/components" \
    "$root/tests/fuzz/fuzz_arch.c" "$root/components/arch.c" "$root/components/cfgfile.c" \
    "$root/engine/err.c" "$root/engine/mem.c" "$root/engine/simtime.c" \
    $(pkg-config --cflags --libs libconfig) -lm -o "$out"
echo "built $out"
