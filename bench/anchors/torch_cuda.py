"""The PyTorch anchors of the CUDA benchmarks (bench/matmul_cuda.cc, elementwise_cuda.cc,
conv_cuda.cc, mnist_cuda.cc), each timed the way the benchmark times tinyref, on the same GPU in the same run.

  matmul: an n x n x n float32 matmul (torch.mm into a preallocated output, so cuBLAS), TF32
          off: torch.backends.cuda.matmul.allow_tf32 = False, unless --tf32 (then cuBLAS's TF32
          tensor-core GEMM, the anchor of tinyref's TT_TF32=1). TFLOP/s = 2 n^3 / seconds.
  copy:   dst.copy_(src) on `elements` float32 values: the device's copy bandwidth, counting the
          bytes read and written (2 * 4 * elements); the yardstick of elementwise_cuda.
  conv:   MNIST's conv2 (a batch x 32 x 24 x 24 image, 32 x 32 x 5 x 5 weights, no padding) through
          cuDNN with torch.backends.cudnn.benchmark on (it times its algorithms, as tinyref's
          search times its variants): the forward pass and the backward one (both gradients, one
          aten.convolution_backward), each timed like matmul. TF32 as PyTorch's default for
          convolutions (cudnn.allow_tf32 = True) unless --no-tf32.
  mnist:  beautiful_mnist on the GPU, the workload of torch_mnist.py (imported from beside this
          file, so both benchmarks train the same model the same way): 70 steps, the median
          step after warm-up, and the test accuracy at the end.

matmul, copy and conv: each sample runs the op `reps` times back to back between two
torch.cuda.synchronize() calls and counts seconds / reps; the median over `samples` samples after
`warmup` untimed calls. Prints one JSON object per workload on stdout.
"""
import argparse
import json
import statistics
import sys
import time

import torch

import torch_mnist


def timed(fn, warmup, reps, samples):
    """Median seconds per call of fn, from `samples` batches of `reps` calls after warm-up."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    per_call = []
    for _ in range(samples):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        torch.cuda.synchronize()
        per_call.append((time.perf_counter() - start) / reps)
    return statistics.median(per_call)


def run_matmul(args):
    # The default of allow_tf32 changed between releases: set it either way.
    torch.backends.cuda.matmul.allow_tf32 = args.tf32
    torch.backends.cudnn.allow_tf32 = args.tf32
    n = args.n
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    c = torch.empty(n, n, device="cuda")
    seconds = timed(lambda: torch.mm(a, b, out=c), args.warmup, args.reps, args.samples)
    return {"workload": "matmul", "n": n, "tf32": args.tf32, "seconds_median": seconds,
            "tflops": 2.0 * n ** 3 / seconds * 1e-12}


def run_copy(args):
    src = torch.randn(args.elements, device="cuda")
    dst = torch.empty_like(src)
    seconds = timed(lambda: dst.copy_(src), args.warmup, args.reps, args.samples)
    moved = 2 * 4 * args.elements  # read src, write dst
    return {"workload": "copy", "elements": args.elements, "bytes_per_call": moved,
            "seconds_median": seconds, "gbps": moved / seconds * 1e-9}


def run_conv(args):
    torch.backends.cudnn.allow_tf32 = not args.no_tf32
    torch.backends.cudnn.benchmark = True
    x = torch.randn(args.batch, 32, 24, 24, device="cuda")
    w = torch.randn(32, 32, 5, 5, device="cuda")
    dy = torch.randn(args.batch, 32, 20, 20, device="cuda")
    forward = timed(lambda: torch.nn.functional.conv2d(x, w), args.warmup, args.reps, args.samples)
    backward = timed(lambda: torch.ops.aten.convolution_backward(
        dy, x, w, None, [1, 1], [0, 0], [1, 1], False, [0, 0], 1, [True, True, False]),
        args.warmup, args.reps, args.samples)
    return {"workload": "conv", "batch": args.batch, "tf32": not args.no_tf32,
            "forward_ms": forward * 1e3, "backward_ms": backward * 1e3}


def run_mnist(args):
    torch.manual_seed(0)
    data = torch_mnist.load_mnist(args.data)
    result = torch_mnist.run_cnn(data, "cuda", args.steps, 512, args.mnist_warmup)
    result["step_ms_median"] = result["step_seconds_median"] * 1e3
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workload", choices=["matmul", "copy", "conv", "mnist", "all"], default="all")
    parser.add_argument("--n", type=int, default=4096, help="matmul size")
    parser.add_argument("--tf32", action="store_true", help="matmul: cuBLAS on TF32 tensor cores")
    parser.add_argument("--batch", type=int, default=512, help="conv: images")
    parser.add_argument("--no-tf32", action="store_true", help="conv: cuDNN in float32 only")
    parser.add_argument("--elements", type=int, default=256 << 20, help="copy: float32 values")
    parser.add_argument("--warmup", type=int, default=3, help="matmul, copy and conv: untimed calls")
    parser.add_argument("--reps", type=int, default=10, help="matmul, copy and conv: calls per sample")
    parser.add_argument("--samples", type=int, default=9, help="matmul, copy and conv: timed samples")
    parser.add_argument("--data", help="mnist: folder with the four MNIST IDX files")
    parser.add_argument("--steps", type=int, default=70, help="mnist: training steps")
    parser.add_argument("--mnist-warmup", type=int, default=3, help="mnist: steps left out of the median")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("torch_cuda.py: PyTorch sees no CUDA device", file=sys.stderr)
        return 1
    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0)}
    workloads = ["matmul", "copy", "conv", "mnist"] if args.workload == "all" else [args.workload]
    if "mnist" in workloads and not args.data:
        parser.error("mnist needs --data")
    runners = {"matmul": run_matmul, "copy": run_copy, "conv": run_conv, "mnist": run_mnist}
    for w in workloads:
        print(json.dumps({**info, **runners[w](args)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
