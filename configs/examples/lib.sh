# configs/examples/lib.sh -- what every study script does first: work from the repository root
# whatever the current directory, and build build/cli/xbarsim if it is missing. Sourced by each
# study's run.sh after it sets `here` (its own folder); sets root, bin and py.
root="$(cd "$here/../../.." && pwd)"
cd "$root"
bin=build/cli/xbarsim
py=/usr/bin/python3
if [ ! -x "$bin" ]; then
    echo "run.sh: $bin missing, building it" >&2
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >&2
    cmake --build build --target xbarsim >&2
fi

# chips_point WEIGHTS BITS IMAGES CHIPS PATH=VALUE...: test accuracy of resnet8-fmnist with
# uniform BITS/BITS on CHIPS chips sampled from the lrmp crossbar with the given device settings,
# on the first IMAGES test images; prints "mean,std,min" (percent) from `xbarsim train
# --device-samples` (device seeds 1 x 1000003 + 1..CHIPS).
chips_point() {
    local w=$1 b=$2 images=$3 chips=$4 sets=() s line
    shift 4
    for s in "$@"; do sets+=(--set "arch.tiles.device.$s"); done
    line=$("$bin" train --net resnet8-fmnist --epochs 0 --weights "$w" --test-images "$images" \
        --policy "uniform:$b" --device-samples "$chips" "${sets[@]}" | grep '^device samples')
    # "device samples = K: mean M %, std S %, min L %"
    sed 's/.*mean \([0-9.]*\) %, std \([0-9.]*\) %, min \([0-9.]*\) %.*/\1,\2,\3/' <<<"$line"
}

# chips_study NAME XCOL CHIPS [WEIGHTS]: set up a device study's run: weights (default
# traces/resnet8-fmnist.h5), chips ($CHIPS, else CHIPS), images ($TEST_IMAGES, else 500), the
# folder out=traces/examples/NAME and csv=$out/NAME.csv with its header (policy,XCOL,chips,...).
chips_study() {
    weights=${4:-traces/resnet8-fmnist.h5}
    chips=${CHIPS:-$3}
    images=${TEST_IMAGES:-500}
    out=traces/examples/$1
    mkdir -p "$out"
    csv=$out/$1.csv
    echo "policy,$2,chips,mean_pct,std_pct,min_pct" >"$csv"
}
