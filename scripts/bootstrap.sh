#!/usr/bin/env bash
# Install xbarsim's build and test dependencies from Debian 12 packages.
# Idempotent: when every package is present it only checks (well under a second) and says so.
# Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(
    build-essential cmake pkg-config
    libconfig-dev libhdf5-dev libgsl-dev check libglpk-dev libopenblas-dev zlib1g-dev
    libopenmpi-dev openmpi-bin
    clang-format valgrind
    clang libomp-dev # tests/fuzz: libFuzzer (libclang-common-14-dev) and clang's OpenMP
    python3 python3-onnx python3-h5py python3-pandas python3-matplotlib
    python3-torch python3-torchvision # tests/test_onnx_torch.sh exports real PyTorch models
    python3-nbconvert python3-ipykernel python3-nbformat
    slurmctld slurmd slurm-client munge # tests/test_slurm.sh: a private one-node cluster
    dataset-fashion-mnist
)

missing=()
for p in "${packages[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null || true)
    [[ "$status" == ii* ]] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "bootstrap: all ${#packages[@]} packages present"
    exit 0
fi

echo "bootstrap: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "bootstrap: need root or sudo to install ${missing[*]}" >&2; exit 1; }
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "bootstrap: done"
