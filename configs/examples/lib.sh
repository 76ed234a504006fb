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
