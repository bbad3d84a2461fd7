"""@cuda: the installed CUDA toolkit, found at build time, or an empty stand-in.

The toolkit is looked up in $CUDA_PATH, then /usr/local/cuda. Where there is none, @cuda still
exists with the same targets, empty, and `CUDA_FOUND = False`, so the rest of the project
builds and the CUDA tests report themselves as skipped.
"""

_BUILD_FOUND = """
package(default_visibility = ["//visibility:public"])

cc_library(
    name = "headers",
    hdrs = glob(["include/**/*.h", "include/**/*.hpp", "include/**/*.inl"]),
    includes = ["include"],
)

# The runtime API, for the hand-written .cu kernels of chapter 7 and the kernel labs.
cc_library(
    name = "cudart",
    srcs = ["lib64/libcudart.so"],
    deps = [":headers"],
)

# Run-time compilation of generated kernels. libnvrtc loads its builtins library by soname.
cc_library(
    name = "nvrtc",
    srcs = ["lib64/libnvrtc.so"],
    deps = [":headers"],
)

filegroup(
    name = "nvcc",
    srcs = ["bin/nvcc"],
)

filegroup(
    name = "nvcc_deps",
    srcs = glob(["bin/**", "nvvm/**", "include/**", "lib64/**"]),
)
"""

_BUILD_MISSING = """
package(default_visibility = ["//visibility:public"])

cc_library(name = "headers")

cc_library(name = "cudart")

cc_library(name = "nvrtc")

filegroup(name = "nvcc")

filegroup(name = "nvcc_deps")
"""

def _cuda_configure_impl(ctx):
    candidates = []
    if ctx.os.environ.get("CUDA_PATH"):
        candidates.append(ctx.os.environ["CUDA_PATH"])
    candidates.append("/usr/local/cuda")
    root = None
    for path in candidates:
        if ctx.path(path + "/bin/nvcc").exists and ctx.path(path + "/lib64/libnvrtc.so").exists:
            root = path
            break
    if root:
        for entry in ["bin", "include", "lib64", "nvvm"]:
            ctx.symlink(root + "/" + entry, entry)
        ctx.file("BUILD", _BUILD_FOUND)
    else:
        ctx.file("BUILD", _BUILD_MISSING)
    ctx.file("defs.bzl", "CUDA_FOUND = %s\nCUDA_ROOT = %r\n" % (root != None, root or ""))

cuda_configure = repository_rule(
    implementation = _cuda_configure_impl,
    environ = ["CUDA_PATH"],
    local = True,
)
