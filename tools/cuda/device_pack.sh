#!/usr/bin/env bash
# Packs what the GPU machine runs into devbin/ (ignored through .git/info/exclude): the CUDA-relevant
# test binaries (chapter 7's native tests among them), the CUDA benchmarks (ch07_ladder among
# them) and the trainer, built here (the GPU machine has no Bazel, gtest or Eigen; see
# ../shared/TOOLCHAIN.md, "Running on the GPU machine"), plus MNIST gzipped, the PyTorch anchor
# scripts, the shared libraries the GPU machine may lack, and devbin/run_all.sh, the binaries
# gzipped (run_all.sh unpacks them). Then, on the GPU
# machine (the run tool, carry=["devbin"]), from the repo root:
#
#   LD_LIBRARY_PATH=/usr/local/cuda/lib64 bash devbin/run_all.sh            # everything
#   LD_LIBRARY_PATH=/usr/local/cuda/lib64 bash devbin/run_all.sh tests      # only the tests
#   LD_LIBRARY_PATH=/usr/local/cuda/lib64 bash devbin/run_all.sh matmul_cuda context_test   # by name
#
# Usage: tools/cuda/device_pack.sh   (from anywhere in the repository; builds with -c opt --config=opt)
#        PACK_TESTS="//tinyref/codegen:gpu_test" PACK_BENCHES="//bench:matmul_cuda" tools/cuda/device_pack.sh
#        (a quick pack: only those targets, no trainer; a minute of building instead of fifteen)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"

BAZEL=${BAZEL:-bazel-4}
BENCHES=(//bench:matmul_cuda //bench:elementwise_cuda //bench:conv_cuda //bench:mnist_cuda //bench:ch07_ladder_solution)
# Static binaries (--dynamic_mode=off, in --config=opt) carry tinyref inside: nothing to copy
# from bazel-bin's solib folders. The run tool carries at most 64 MiB in all.
LIMIT_MB=60

# Chapter 8: its solution's tests (on a GPU they run natively), the milestone, the benchmark.
CH08_TESTS=$("$BAZEL" query --noshow_progress "attr(tags, '\\bsolution\\b', tests(//tests/08_cuda_codegen:all))" 2>/dev/null)
BENCHES+=(//bench:ch08_mnist_cuda)

mapfile -t TESTS < <(
  "$BAZEL" query --noshow_progress 'kind(cc_test, //tinyref/backends/cuda:* + //tools/mnist:*)' 2>/dev/null
  # The CUDA chapters' tests built with nvcc, against the solutions (tools/chapter.bzl's
  # chapter_cuda_test): manual elsewhere, as they skip without a GPU.
  "$BAZEL" query --noshow_progress "filter('_native_solution\$', kind(cc_test, //tests/...))" 2>/dev/null
  echo "$CH08_TESTS"
  echo //tools/gpu:gpu_layer_test
  echo //tinyref:conformance_test
  echo //tinyref/codegen:gpu_lowering_test
  echo //tinyref/codegen:gpu_test
  echo //tinyref/codegen:tensor_core_test  # TF32 mma.sync: the fragment layout checked on hardware
  echo //tinyref/codegen:wgmma_test  # TF32 wgmma (sm_90a): descriptors, D fragment and truncation on hardware
  echo //tinyref/fuzz:fuzz_test  # random graphs on INTERP, CPU and CUDA, compared
  echo //tinyref/engine:replay_test
  echo //tools/cuda:cuda_smoke_test
  echo //tools/cudaemu:both_ways_test  # the emulator against nvcc on the same kernels
)
# One folder holds the binaries: two targets of one name (//a:x_test, //b:x_test) would overwrite.
mapfile -t TESTS < <(printf '%s\n' "${TESTS[@]}" | sed '/^$/d' | sort -u)
clash=$(printf '%s\n' "${TESTS[@]}" | sed 's/.*://' | sort | uniq -d)
[[ -z $clash ]] || { echo "device_pack: more than one test named $clash" >&2; exit 1; }
TRAINER=(//tools/mnist:mnist)
if [[ -n ${PACK_TESTS:-}${PACK_BENCHES:-} ]]; then
  read -ra TESTS <<< "${PACK_TESTS:-}"
  read -ra BENCHES <<< "${PACK_BENCHES:-}"
  TRAINER=()
fi
echo "device_pack: building ${#TESTS[@]} tests, ${#BENCHES[@]} benchmarks and ${TRAINER[*]:-no trainer}"
"$BAZEL" build -c opt --config=opt "${TESTS[@]}" "${BENCHES[@]}" "${TRAINER[@]}"

# Filled beside devbin and swapped in at the end, so a failure leaves the last pack whole.
stage=$(mktemp -d "${TMPDIR:-/tmp}/devbin.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{tests,bin,lib,mnist,anchors}
bin_of() { local l=${1#//}; echo "bazel-bin/${l%%:*}/${l#*:}"; }  # //a/b:c -> bazel-bin/a/b/c
for t in "${TESTS[@]}"; do cp -L "$(bin_of "$t")" "$stage/tests/"; done
for b in "${BENCHES[@]}" "${TRAINER[@]}"; do cp -L "$(bin_of "$b")" "$stage/bin/"; done
# (nullglob: a quick pack may have no tests or no benchmarks, and no tool must see a bare '*'.)
shopt -s nullglob
packed=("$stage"/tests/* "$stage"/bin/*)
shopt -u nullglob
chmod u+w "${packed[@]}" 2>/dev/null || true
strip --strip-unneeded "${packed[@]}" 2>/dev/null || true  # symbols are most of an -c opt binary
# Kernels compiled at run time for the emulator link against the binary's exported cudaemu
# symbols (tools/cudaemu/jit_exports.lds); a static, stripped binary that lost them fails on the
# GPU machine only, so its emulated rows run here first (where the pack has gpu_layer_test).
if [[ -x $stage/tests/gpu_layer_test ]]; then
  "$stage/tests/gpu_layer_test" --gtest_filter='EmulatedGpu.*:*/0' >/dev/null ||
    { echo "device_pack: the packed gpu_layer_test cannot run emulated kernels (cudaemu exports?)" >&2; exit 1; }
fi

# Shared libraries beyond the C/C++ runtime and CUDA's (libgomp, libcrypto, zlib ...): the GPU
# machine runs another distribution, where they may be missing (run_all.sh uses only those).
ldd "${packed[@]}" | awk '/=> \//{print $1, $3}' | sort -u |
  while read -r name path; do
    case $name in
      libc.so*|libm.so*|libstdc++*|libgcc_s*|ld-linux*|libpthread*|librt.so*|libdl.so*|libcuda*|libnvrtc*|libcudart*) ;;
      *) cp -L "$path" "$stage/lib/$name" ;;
    esac
  done

# The binaries gzipped: a stripped static test is about 1.8 MB, gzipped 0.8, and the run tool
# carries 64 MiB with the repository's own files (run_all.sh unpacks them; by hand:
# gzip -dc devbin/tests/gpu_test.gz > /tmp/gpu_test && chmod +x /tmp/gpu_test).
(( ${#packed[@]} == 0 )) || gzip -9 "${packed[@]}"

# MNIST where ./course setup puts it (datasets/mnist), gzipped (53 MB raw, about 11 MB gzipped);
# run_all.sh unpacks it, and the loader checks every file's sha256.
for f in $(awk '{sub(".*/", "", $2); print $2}' datasets/MNIST.sha256); do  # "SUM  mnist/NAME"
  [[ -f datasets/mnist/$f ]] || { echo "device_pack: datasets/mnist/$f missing: run ./course setup" >&2; exit 1; }
  gzip -9 -c "datasets/mnist/$f" > "$stage/mnist/$f.gz"
done
cp datasets/MNIST.sha256 "$stage/mnist/"
cp bench/anchors/torch_cuda.py bench/anchors/torch_mnist.py "$stage/anchors/"
cp tools/cuda/run_all.sh "$stage/run_all.sh"

size_mb=$(du -sm "$stage" | cut -f1)
if (( size_mb > LIMIT_MB )); then
  echo "device_pack: $size_mb MiB is over the $LIMIT_MB MiB the run tool carries" >&2
  du -sh "$stage"/* >&2
  exit 1
fi
chmod 755 "$stage"  # mktemp made it private
rm -rf devbin
mv "$stage" devbin
trap - EXIT
echo "device_pack: devbin/ is $size_mb MiB:"
du -sh devbin/*
echo "on the GPU machine: LD_LIBRARY_PATH=/usr/local/cuda/lib64 bash devbin/run_all.sh (carry [\"devbin\"])"
