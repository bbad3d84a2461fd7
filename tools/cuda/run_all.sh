#!/usr/bin/env bash
# Runs the pack that tools/cuda/device_pack.sh made, on the GPU machine, from the repo root:
#
#   LD_LIBRARY_PATH=/usr/local/cuda/lib64 bash devbin/run_all.sh [tests|benches|NAME ...]
#
# Every test binary (gtest, --gtest_brief=1), then every benchmark (each runs its PyTorch anchor
# with the python3 on PATH), each under a time limit; then a summary: passed / FAILED / skipped
# per binary (gtest's own skip count: a CUDA test that found no GPU skips, it does not pass),
# every RESULT line and every "both ways:" line (both_ways_test: nvcc against the emulator).
# Exits 1 when anything failed. Arguments pick binaries by name, or the group.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
limit=${RUN_ALL_TIMEOUT:-300}  # seconds per binary; the run tool allows 600 a command
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The packed shared libraries, only those this machine lacks: a bundled copy would also shadow
# the system's for the python3 that the benchmarks start (a Debian libcrypto under Ubuntu's ssl).
mkdir -p "$work/lib"
for lib in "$here"/lib/*; do
  [[ -e $lib ]] || continue
  name=$(basename "$lib")
  ldconfig -p 2>/dev/null | grep -qE "^[[:space:]]+${name//./\\.} " && continue
  echo "run_all: using the packed $name (this machine has none)"
  ln -s "$lib" "$work/lib/$name"
done
export LD_LIBRARY_PATH="$work/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# The binaries, packed gzipped (device_pack.sh), unpacked for this run.
mkdir -p "$work/tests" "$work/bin"
for gz in "$here"/tests/*.gz "$here"/bin/*.gz; do
  [[ -e $gz ]] || continue
  dest="$work/$(basename "$(dirname "$gz")")/$(basename "$gz" .gz)"
  gzip -dc "$gz" > "$dest" && chmod +x "$dest"
done

# MNIST, unpacked once; the loader checks the sums.
export TT_MNIST_DIR="$here/mnist/raw"
if [[ ! -f $TT_MNIST_DIR/t10k-labels-idx1-ubyte ]]; then
  mkdir -p "$TT_MNIST_DIR"
  for gz in "$here"/mnist/*.gz; do gzip -dc "$gz" > "$TT_MNIST_DIR/$(basename "$gz" .gz)"; done
fi

# What bazel test would give a test: a runfiles tree (tools/mnist:mnist_test runs the trainer
# from it) and a scratch folder.
export TEST_SRCDIR="$work/runfiles" TEST_WORKSPACE=tinygrad_cpp_course
mkdir -p "$TEST_SRCDIR/$TEST_WORKSPACE/tools/mnist"
ln -s "$work/bin/mnist" "$TEST_SRCDIR/$TEST_WORKSPACE/tools/mnist/mnist"

wanted() {  # $1: name, $2: group
  (( ${#picks[@]} == 0 )) && return 0
  local p; for p in "${picks[@]}"; do [[ $p == "$1" || $p == "$2" ]] && return 0; done
  return 1
}
picks=("$@")
summary=()
results=()
failed=0

run_one() {  # $1: group, $2: binary, rest: arguments
  local group=$1 bin=$2 name; name=$(basename "$2"); shift 2
  wanted "$name" "$group" || return 0
  echo "=================== $name"
  local log="$work/$name.log" start=$SECONDS
  export TEST_TMPDIR="$work/tmp.$name"; mkdir -p "$TEST_TMPDIR"
  timeout "$limit" "$bin" "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]} status
  local skipped; skipped=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) tests\?[,.].*/\1/p' "$log" | tail -1)
  if (( rc == 124 )); then status="FAILED (timed out after ${limit}s)"; failed=1
  elif (( rc != 0 )); then status="FAILED (exit $rc)"; failed=1
  elif grep -q '^SKIPPED ' "$log"; then status="skipped: $(grep -m1 '^SKIPPED ' "$log" | cut -c1-150)"
  else status="passed${skipped:+ ($skipped skipped)}"
  fi
  summary+=("$(printf '%-24s %-8s %4ss  %s' "$name" "$group" $((SECONDS - start)) "$status")")
  while IFS= read -r line; do results+=("$line"); done < <(grep -E '^(RESULT|both ways:) ' "$log")
}

for t in "$work"/tests/*; do run_one tests "$t" --gtest_brief=1; done
anchor=(--python python3 --anchor "$here/anchors/torch_cuda.py")
run_one benches "$work/bin/ch08_mnist_cuda" "${anchor[@]}" --data "$TT_MNIST_DIR"
run_one benches "$work/bin/matmul_cuda" "${anchor[@]}"
run_one benches "$work/bin/elementwise_cuda" "${anchor[@]}"
run_one benches "$work/bin/conv_cuda" "${anchor[@]}"
run_one benches "$work/bin/mnist_cuda" "${anchor[@]}" --data "$TT_MNIST_DIR"
run_one benches "$work/bin/ch07_ladder_solution"   # its anchors (cudaMemcpy, cuBLAS) run inside

echo "=================== summary ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || echo 'no nvidia-smi'))"
printf '%s\n' "${summary[@]}"
(( ${#results[@]} )) && printf '%s\n' "${results[@]}"
exit $failed
