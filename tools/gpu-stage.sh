#!/usr/bin/env bash
# Stages what an offline GPU machine lacks into .gpu/ (git-ignored), on a machine that has
# run tools/install-deps.sh: the header-only libraries (xxHash is used as one), stb
# (compiled from its headers by the build), zlib's headers, doctest's CMake discovery
# scripts and Fashion-MNIST. About 40 MB, under the device tool's 64 MiB carry. Then, on
# the GPU machine: bash tools/gpu-build.sh
set -euo pipefail
cd "$(dirname "$0")/.."
deps=.gpu/deps
rm -rf .gpu
mkdir -p "$deps/include" "$deps/cmake" .gpu/data
cp -r /usr/include/eigen3/Eigen "$deps/include/"           # Eigen: only Eigen/, not unsupported/
cp -r /usr/include/nlohmann /usr/include/CLI /usr/include/doctest /usr/include/stb "$deps/include/"
cp /usr/include/zlib.h /usr/include/zconf.h /usr/include/xxhash.h "$deps/include/"
cp /usr/lib/cmake/doctest/doctest.cmake /usr/lib/cmake/doctest/doctestAddTests.cmake "$deps/cmake/"
cp -r /usr/share/datasets/fashion-mnist .gpu/data/
du -sh .gpu
echo "staged .gpu/: carry it to the GPU machine and run: bash tools/gpu-build.sh"
