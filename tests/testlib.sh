# testlib.sh: shared helpers of the shell tests (sourced, not run). Counts into $pass and $fail.
pass=0
fail=0

# expect NAME STATUS PATTERN -- CMD...: CMD exits with STATUS and its stdout+stderr match PATTERN.
expect() {
    local name=$1 status=$2 pattern=$3
    shift 4
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$status" ] && grep -qE -- "$pattern" <<<"$out"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name: exit $rc (expected $status), pattern '$pattern', output:"
        sed 's/^/    /' <<<"$out" | head -30
    fi
}

# check NAME CONDITION...: a shell test.
check() {
    local name=$1
    shift
    if "$@"; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        echo "FAIL: $name"
    fi
}

# finish: print the tally in the form CTest's log readers know and exit non-zero on a failure.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
