"""cuda_emu_library: a cc_library whose .cu sources run on the CUDA emulator (tools/cudaemu).

Each .cu goes through the emulator's rewriter (a genrule) into C++ that the host compiler builds
against the emulator's prelude; `#include <cuda_runtime.h>` finds the emulator's. The same .cu
files build natively with cuda_library (tools/cuda/cuda_library.bzl): a chapter declares both
and links its tests against either.

    cuda_emu_library(
        name = "kernels_emulated",
        cu_srcs = ["kernels.cu"],
        hdrs = ["kernels.h"],        # the plain C++ launchers the tests call
    )
"""

load("//tools:copts.bzl", "TT_DEFAULT_COPTS")

def cuda_emu_library(name, cu_srcs = [], srcs = [], hdrs = [], deps = [], copts = [], **kwargs):
    generated = []
    for cu in cu_srcs:
        out = "%s_emulated/%s" % (name, cu.replace(".cu", ".emu.cc"))
        native.genrule(
            name = "%s_rewrite_%s" % (name, cu.replace("/", "_").replace(".", "_")),
            srcs = [cu],
            outs = [out],
            tools = ["//tools/cudaemu:cudaemu_rewrite"],
            cmd = "$(location //tools/cudaemu:cudaemu_rewrite) $(location %s) $@ --name %s" % (
                cu,
                native.package_name() + "/" + cu,
            ),
        )
        generated.append(out)
    native.cc_library(
        name = name,
        srcs = srcs + generated,
        hdrs = hdrs,
        copts = TT_DEFAULT_COPTS + ["-Wno-unused-variable", "-Wno-unused-but-set-variable"] + copts,
        deps = deps + ["//tools/cudaemu:cuda_runtime_headers"],
        **kwargs
    )
