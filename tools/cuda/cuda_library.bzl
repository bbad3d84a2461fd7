"""cuda_library: a cc_library whose .cu sources are compiled by nvcc.

One genrule per .cu makes an object file; the cc_library lists the objects in srcs. Keep .cu
files thin (plain C++ launch functions); everything else stays in .cc files built by Bazel's
own toolchain, so nvcc never has to follow Bazel's include graph.

Without a toolkit (@cuda//:defs.bzl says CUDA_FOUND = False) the .cu files are left out and
TT_NO_CUDA is defined, so callers compile a stub that reports "built without CUDA".
"""

load("@cuda//:defs.bzl", "CUDA_FOUND")

NVCC_FLAGS = [
    "-O3",
    "-std=c++17",
    "--compiler-options=-fPIC",
    "-gencode=arch=compute_90,code=sm_90",
    "-gencode=arch=compute_90,code=compute_90",
]

def cuda_library(name, srcs = [], cu_srcs = [], hdrs = [], deps = [], nvcc_flags = [], **kwargs):
    """nvcc_flags: added to NVCC_FLAGS for this library's .cu files (--fmad=false, -DNAME=...)."""
    objects = []
    if CUDA_FOUND:
        for cu in cu_srcs:
            obj = name + "_" + cu.replace("/", "_").replace(".cu", ".o")
            native.genrule(
                name = obj.replace(".o", "_nvcc"),
                srcs = [cu] + hdrs,
                outs = [obj],
                tools = ["@cuda//:nvcc", "@cuda//:nvcc_deps"],
                cmd = "$(location @cuda//:nvcc) %s -I. -c $(location %s) -o $@" % (" ".join(NVCC_FLAGS + nvcc_flags), cu),
            )
            objects.append(obj)
    native.cc_library(
        name = name,
        srcs = srcs + objects,
        hdrs = hdrs,
        defines = [] if CUDA_FOUND else ["TT_NO_CUDA"],
        deps = deps + (["@cuda//:cudart"] if CUDA_FOUND and cu_srcs else []),
        **kwargs
    )
