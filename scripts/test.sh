#!/usr/bin/env bash
# Every test: install what is missing, check formatting, build with warnings as errors, run every
# Check suite (ctest); then the same suites in the AddressSanitizer+UBSan build, under valgrind's
# leak checker, and each loader's fuzzer for 15 s. Exits non-zero on the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/bootstrap.sh
jobs=$(nproc 2>/dev/null || echo 2)

echo "== format (clang-format, .clang-format)"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.[ch]' -not -path './build*')
clang-format --dry-run -Werror "${sources[@]}"

echo "== build (Release, -Werror)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DXBARSIM_WERROR=ON -DXBARSIM_TESTS=ON -DXBARSIM_BENCH=ON >/dev/null
cmake --build build -j "$jobs" >/dev/null
echo "== ctest (Release)"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== validate (published chip figures against this build)"
build/cli/xbarsim validate

echo "== build (Debug, ASan+UBSan, one malloc per event)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DXBARSIM_WERROR=ON -DXBARSIM_SANITIZE=ON \
    -DXBARSIM_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
echo "== ctest (ASan+UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== every suite under valgrind (Release build, no leaks, no errors)"
# CK_FORK=no runs each suite in one process so valgrind sees all of it; suites skip their
# abort-expecting tests in that mode.
find build/tests -maxdepth 1 -type f -name 'test_*' -perm -u+x -print0 | sort -z |
    CK_FORK=no xargs -0 -P "$jobs" -I{} sh -c 'valgrind --quiet --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=1 {} >"{}.valgrind.log" 2>&1 \
        && echo "valgrind ok: {}" || { cat "{}.valgrind.log"; echo "valgrind FAILED: {}"; exit 255; }'
echo "== fuzz smoke (every loader's libFuzzer harness for 15 s, tests/fuzz/README.md)"
scripts/fuzz.sh 15
echo "test.sh: all passed"
