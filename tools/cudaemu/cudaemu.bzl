"""cuda_emu_library: a cc_library whose .cu sources run on the CUDA emulator (tools/cudaemu).

Each .cu goes through the emulator's rewriter (a genrule) into C++ that the host compiler builds
against the emulator's prelude; `#include <cuda_runtime.h>` finds the emulator's. The same .cu
files build natively with cuda_library (tools/cuda/cuda_library.bzl): a chapter declares both
and links its tests against either.

    cuda_emu_library(
        name = "kernels_emulated",
        cu_srcs = ["kernels.cu"],
        cu_hdrs = ["common.cuh"],    # device code included by the .cu files: rewritten too
        hdrs = ["kernels.h"],        # the plain C++ launchers the tests call
    )

A .cuh in cu_hdrs becomes X.emu.cuh beside the build's outputs, and the rewritten sources
include that instead (one cuda_emu_library per package may list a given .cuh). Emulated code is
built with -ffp-contract=off: a * b + c is rounded twice, where nvcc fuses it into one FMA.
"""

load("//tools:copts.bzl", "TT_DEFAULT_COPTS")

def _rewrite(name, src, out):
    native.genrule(
        name = "%s_rewrite_%s" % (name, src.replace("/", "_").replace(".", "_")),
        srcs = [src],
        outs = [out],
        tools = ["//tools/cudaemu:cudaemu_rewrite"],
        cmd = "$(location //tools/cudaemu:cudaemu_rewrite) $(location %s) $@ --name %s" % (
            src,
            native.package_name() + "/" + src,
        ),
    )

def cuda_emu_library(name, cu_srcs = [], cu_hdrs = [], srcs = [], hdrs = [], deps = [], copts = [], **kwargs):
    generated_headers = []
    for h in cu_hdrs:
        out = h[:-len(".cuh")] + ".emu.cuh"
        _rewrite(name, h, out)
        generated_headers.append(out)
    generated = []
    for cu in cu_srcs:
        out = "%s_emulated/%s" % (name, cu.replace(".cu", ".emu.cc"))
        _rewrite(name, cu, out)
        generated.append(out)
    native.cc_library(
        name = name,
        srcs = srcs + generated,
        hdrs = hdrs,
        textual_hdrs = generated_headers,
        copts = TT_DEFAULT_COPTS + ["-ffp-contract=off", "-Wno-unused-variable", "-Wno-unused-but-set-variable"] + copts,
        deps = deps + ["//tools/cudaemu:cuda_runtime_headers"],
        **kwargs
    )
