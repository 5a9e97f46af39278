#!/usr/bin/env bash
# Cross-compiles the scalar and NEON kernels for arm64 and runs cpp/tests/test_kernels.cpp
# on them under qemu's user-mode emulation, so the NEON target is tested on an x86-64 host.
# Needs Debian's g++-aarch64-linux-gnu and qemu-user packages.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

flags=(-std=c++17 -O3 -fno-fast-math -ffp-contract=off)
for target in scalar neon; do
  aarch64-linux-gnu-g++ "${flags[@]}" -DFASTMSE_TARGET=$target \
    -c "$root/cpp/mse_kernels.cpp" -o "$work/kernels_$target.o"
done
aarch64-linux-gnu-g++ "${flags[@]}" -static -DFASTMSE_HAVE_NEON=1 \
  "$root/cpp/tests/test_kernels.cpp" "$root/cpp/dispatch.cpp" \
  "$work/kernels_scalar.o" "$work/kernels_neon.o" -o "$work/test_kernels"
qemu-aarch64 "$work/test_kernels"
