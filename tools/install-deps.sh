#!/usr/bin/env bash
# Installs everything dg needs to build, test and train on a Debian 12 machine (as root,
# or with sudo available). The CUDA toolkit (with cuDNN and NCCL) is optional and not
# installed here: when /usr/local/cuda/bin/nvcc exists, the CUDA backend is built too (and
# with MPI and NCCL, multi-GPU training).
set -euo pipefail
packages=(
  g++ cmake ninja-build pkg-config   # toolchain
  libeigen3-dev                      # CPU GEMM and linear algebra (header-only)
  nlohmann-json3-dev                 # config.json, metrics.jsonl, safetensors headers
  libcli11-dev                       # command-line flags
  doctest-dev                        # unit tests
  libstb-dev                         # PNG/JPEG/BMP read and write
  libxxhash-dev                      # checksums of checkpoints (xxh3, used header-only)
  zlib1g-dev                         # .gz datasets, compressed .mat
  libopenmpi-dev openmpi-bin         # multi-process training (mpirun), its 2-rank CPU tests
  libboost-context-dev               # fibers of the CUDA emulator (tests/emu, -DDG_CUDA=EMU)
  dataset-fashion-mnist              # dgtrain's default dataset
  python3-matplotlib                 # dashboard.png at the end of a run (tools/dgplot.py)
)
sudo_if_needed=()
[ "$(id -u)" -eq 0 ] || sudo_if_needed=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_if_needed[@]}" apt-get update -qq
"${sudo_if_needed[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "dg: dependencies installed: ${packages[*]}"
