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

# same_table A.h5 B.h5: the two files' /sweep/points have the same layout and rows, every column
# bit for bit (NaN too) but the wall time wall_s. Prints what differs and fails otherwise.
same_table() {
    /usr/bin/python3 - "$1" "$2" <<'PYEOF'
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], "r")["/sweep/points"][:]
b = h5py.File(sys.argv[2], "r")["/sweep/points"][:]
names = [n for n in a.dtype.names if n != "wall_s"]
if a.dtype != b.dtype or len(a) != len(b):
    sys.exit(f"layout or length differ: {len(a)} vs {len(b)} rows")
for n in names:
    x, y = a[n], b[n]
    if x.dtype.kind == "f":
        same = np.array_equal(x.view(np.uint64), y.view(np.uint64))  # bit for bit, NaN too
    else:
        same = np.array_equal(x, y)
    if not same:
        sys.exit(f"column {n} differs")
PYEOF
}

# finish: print the tally in the form CTest's log readers know and exit non-zero on a failure.
finish() {
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
