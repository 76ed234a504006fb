#!/usr/bin/env bash
# test_install: `cmake --install` into a temporary prefix gives a working tree: from an unrelated
# folder, with no XBARSIM_DATA, the installed binary runs the default job, maps a preset by name
# (found in the installed data: a preset that exists only there), runs a sweep, validates, and a C
# program builds against the installed libraries with pkg-config and prices like `xbarsim map`.
# Usage: test_install.sh BUILD_DIR SOURCE_DIR. Prints "N passed, N failed".
set -u
build=$1
src=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/testlib.sh
source "$(dirname "$0")/testlib.sh"

prefix="$tmp/prefix"
expect "cmake --install" 0 '' -- cmake --install "$build" --prefix "$prefix"
bin="$prefix/bin/xbarsim"
data="$prefix/share/xbarsim"
check "binary installed" [ -x "$bin" ]
check "presets installed" [ -f "$data/configs/arch/lrmp.cfg" ]
check "networks installed" [ -f "$data/configs/net/resnet18.cfg" ]
check "trace module installed" [ -f "$data/scripts/xbarsim_trace.py" ]
check "model doc installed" [ -f "$prefix/share/doc/xbarsim/MODEL.md" ]
check "pkg-config file installed" [ -f "$prefix/lib/pkgconfig/xbarsim.pc" ]
sed 's/name = "lrmp";/name = "instonly";/' "$data/configs/arch/lrmp.cfg" >"$data/configs/arch/instonly.cfg"

mkdir -p "$tmp/elsewhere"
cd "$tmp/elsewhere" || exit 1
unset XBARSIM_DATA
expect "installed run (default job)" 0 '^wrote x\.h5' -- "$bin" run -o x.h5
expect "installed map of an installed-only preset" 0 '^# lenet5 on instonly' -- "$bin" map instonly --net lenet5
expect "installed sweep" 0 'points done, 0 failed' -- "$bin" sweep "$data/configs/sweep/adc_energy.cfg" -o s.h5
expect "installed validate" 0 '0 failed' -- "$bin" validate

# A C program against the installed tree, through pkg-config; it prices like `xbarsim map`.
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
san=""  # a sanitizer build's libraries need the sanitizers' runtime in the program too
grep -q '^XBARSIM_SANITIZE:BOOL=ON' "$build/CMakeCache.txt" && san="-fsanitize=address,undefined"
expect "example builds" 0 '' -- sh -c "cc $san '$src/examples/price.c' \$(pkg-config --cflags --libs xbarsim) -o price"
want=$("$bin" map lrmp --net lenet5 | grep -E '^latency = ' | cut -d' ' -f1-4)
expect "example prices like map" 0 "^$want" -- ./price "$data/configs/arch/lrmp.cfg" "$data/configs/net/lenet5.cfg" 8
finish
