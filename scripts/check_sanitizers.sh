#!/usr/bin/env bash
# Builds _core with AddressSanitizer and UndefinedBehaviorSanitizer and runs the in-process
# tests against it. Tests that start fresh Python processes are left out, because those
# processes would load the installed module instead of the sanitized one.
# Usage: scripts/check_sanitizers.sh [extra pytest arguments]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cmake -S "$root" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSKBUILD_PROJECT_VERSION="$(python3 -c 'import tomllib; print(tomllib.load(open("'"$root"'/pyproject.toml", "rb"))["project"]["version"])')" \
  -DFASTMSE_SANITIZE=ON -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)"
cmake --build "$work/build"

mkdir -p "$work/site"
cp -r "$root/python/fastmse" "$work/site/"
cp "$work/build"/_core*.so "$work/site/fastmse/"

# Python itself is not built with the sanitizers, so their runtimes must load first.
# Leak checking is off: the interpreter keeps memory alive until exit by design.
export LD_PRELOAD="$(g++ -print-file-name=libasan.so) $(g++ -print-file-name=libubsan.so)"
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PYTHONPATH="$work/site"
cd "$root"
python3 -m pytest -q -p no:cacheprovider tests --deselect tests/test_large.py \
  -k "not forked and not thread_variables and not simd_variable and not default_threads \
and not command_line and not invalid_thread_variable and not unknown_simd" "$@"
