"""The chapter machinery.

Each chapter NN exists twice, with the same headers under the same include path "chNN/...":
    //chapters/NN_topic:chNN    the student's code (a skeleton with TODO(chNN.k) to fill in)
    //solutions/NN_topic:chNN   the complete solution
and once as an alias //chapters:chNN that picks the student's code, or the solution with
`--define chNN=solution`. A chapter that builds on earlier ones depends on their aliases, so a
student stuck on chapter 2 runs chapter 3 on the solution of chapter 2 alone.

chapter_test makes two tests from one source:
    NAME           against the student's chapter (tagged manual: `./course check NN` runs it)
    NAME_solution  against the solution (part of `bazel test //...` and `./course test`)
`./course teeth` runs both and requires every case to fail on the skeleton and pass on the
solution.

Variants. `./course known-bugs` (the solution with one realistic bug patched in) and `./course
grade` (a student's submission) build a chapter from other sources, many at once, each in its
own generated package under .course/ holding one chapter_variant. To make that cheap, the
solution comes in layers and each test's cases are compiled once:
    //solutions/NN_topic:chNN_deps      what the chapter builds on (earlier chapters, libraries)
    //solutions/NN_topic:chNN_headers   + the chapter's headers: what tests compile against
    //solutions/NN_topic:chNN           + the chapter's sources
    //tests/NN_topic:NAME_cases         NAME's test cases compiled against chNN_headers
    //tests/NN_topic:NAME_srcs, NAME_deps   NAME's sources and dependencies, for variants whose
                                        headers differ (they compile the cases again)
A variant with the solution's headers compiles only its own .cc files and links them with the
compiled cases (NAME_solution is the same link with the solution's sources).

A chapter written in CUDA (chapter 7) uses chapter_cuda_library and chapter_cuda_test: its .cu
files build through the CUDA emulator for the graded tests (every machine) and with nvcc for a
GPU (NAME_native twins, packed for the GPU machine by tools/cuda/device_pack.sh).
"""

load("//tools:copts.bzl", "TT_DEFAULT_COPTS", "TT_TEST_COPTS")
load("//tools/cuda:cuda_library.bzl", "nvcc_objects")
load("@cuda//:defs.bzl", "CUDA_FOUND")
load("//tools/cudaemu:cudaemu.bzl", "cuda_emu_library")

def chapter_library(chapter, srcs = [], hdrs = [], deps = [], earlier = [], **kwargs):
    """The library of chapter `chapter` ("01"), in chapters/ or solutions/.

    earlier: the numbers of the chapters this one builds on ("02"). The student's library
    takes them through the //chapters:chNN aliases, the solution from the other solutions.
    """
    name = "ch" + chapter
    include = dict(
        strip_include_prefix = "/" + native.package_name(),
        include_prefix = name,
    )
    if not native.package_name().startswith("solutions/"):
        native.cc_library(
            name = name,
            srcs = srcs,
            hdrs = hdrs,
            copts = TT_DEFAULT_COPTS,
            deps = deps + ["//chapters:ch%s" % n for n in earlier] + ["//chapters:course"],
            visibility = ["//visibility:public"],
            **dict(include, **kwargs)
        )
        return
    native.cc_library(
        name = name + "_deps",
        deps = deps + ["//solutions:ch%s" % n for n in earlier] + ["//chapters:course"],
        visibility = ["//visibility:public"],
    )
    native.cc_library(
        name = name + "_headers",
        hdrs = hdrs,
        deps = [":%s_deps" % name],
        visibility = ["//visibility:public"],
        **include
    )
    native.cc_library(
        name = name,
        srcs = srcs,
        copts = TT_DEFAULT_COPTS,
        deps = [":%s_headers" % name],
        visibility = ["//visibility:public"],
        **kwargs
    )

def chapter_alias(chapter, folder, suffixes = [""]):
    """In chapters/BUILD: //chapters:chNN, the student's chapter unless --define chNN=solution.

    suffixes: the chapter's libraries to alias, "" for chNN itself ("_native": chNN_native).
    """
    native.config_setting(
        name = "ch%s_solution" % chapter,
        define_values = {"ch" + chapter: "solution"},
    )
    for suffix in suffixes:
        target = "ch%s%s" % (chapter, suffix)
        native.alias(
            name = target,
            actual = select({
                ":ch%s_solution" % chapter: "//solutions/%s:%s" % (folder, target),
                "//conditions:default": "//chapters/%s:%s" % (folder, target),
            }),
            visibility = ["//visibility:public"],
        )

def chapter_test(name, chapter, srcs, deps = [], data = [], size = "small", tags = [], **kwargs):
    """Two cc_tests from one source: NAME (student, manual) and NAME_solution."""
    folder = native.package_name().split("/")[-1]
    public = ["//visibility:public"]
    native.filegroup(name = name + "_srcs", srcs = srcs, testonly = True, visibility = public)
    native.cc_library(
        name = name + "_deps",
        testonly = True,
        data = data,
        deps = deps + ["//tests/testing", "@googletest//:gtest_main"],
        visibility = public,
    )
    native.cc_library(
        name = name + "_cases",
        testonly = True,
        srcs = srcs,
        copts = TT_TEST_COPTS,
        deps = [":%s_deps" % name, "//solutions/%s:ch%s_headers" % (folder, chapter)],
        alwayslink = True,
        visibility = public,
    )
    native.cc_test(
        name = name,
        srcs = srcs,
        copts = TT_TEST_COPTS,
        size = size,
        deps = ["//chapters/%s:ch%s" % (folder, chapter), ":%s_deps" % name],
        tags = tags + ["manual", "student", "ch" + chapter],
        **kwargs
    )
    native.cc_test(
        name = name + "_solution",
        size = size,
        deps = [":%s_cases" % name, "//solutions/%s:ch%s" % (folder, chapter)],
        tags = tags + ["solution", "ch" + chapter],
        **kwargs
    )

def chapter_variant(chapter, folder, tests, srcs = [], hdrs = [], deps = [], env = {}, library = None):
    """In a generated package under .course/: chapter `chapter` built from this package's
    sources, and `tests` (names of the chapter's chapter_tests) run against it, with `env`.

    Without hdrs, srcs compile against the solution's headers and the tests link its compiled
    cases. With hdrs (a submission whose headers differ, or a chapter built on a student's
    earlier chapter), the library is complete in itself, on `deps` (default: what the
    solution builds on), and every test is compiled again against it.

    library: a chapter whose library is not a chapter_library (chapter 7's .cu files) has it
    made in the same package by its own macro (the skeleton's BUILD, copied above this call);
    then srcs and deps are unused, and hdrs only says whether the tests compile again.
    """
    name = "ch" + chapter
    manual = ["manual", "variant"]
    if library == None:
        library = ":" + name
        if not hdrs:
            native.cc_library(
                name = name,
                srcs = srcs,
                copts = TT_DEFAULT_COPTS,
                deps = ["//solutions/%s:%s_headers" % (folder, name)],
                tags = manual,
            )
        else:
            native.cc_library(
                name = name,
                srcs = srcs,
                hdrs = hdrs,
                copts = TT_DEFAULT_COPTS,
                strip_include_prefix = "/" + native.package_name(),
                include_prefix = name,
                deps = deps or ["//solutions/%s:%s_deps" % (folder, name)],
                tags = manual,
            )
    for test in tests:
        if not hdrs:
            native.cc_test(
                name = test,
                deps = ["//tests/%s:%s_cases" % (folder, test), library],
                env = env,
                tags = manual,
            )
        else:
            native.cc_test(
                name = test,
                srcs = ["//tests/%s:%s_srcs" % (folder, test)],
                copts = TT_TEST_COPTS,
                deps = ["//tests/%s:%s_deps" % (folder, test), library],
                env = env,
                tags = manual,
            )

def chapter_cuda_library(chapter, cu_srcs, hdrs = [], cu_hdrs = [], deps = []):
    """A chapter written in CUDA (.cu kernels and launchers), in chapters/ or solutions/; twice:

        chNN         through the CUDA emulator (tools/cudaemu): runs on every machine, and
                     reports races, divergent barriers, uninitialised shared reads and accesses
                     out of bounds. The chapter's tests use it.
        chNN_native  compiled by nvcc for a GPU (where the toolkit is found; elsewhere an empty
                     library that nothing builds by default).

    hdrs are plain C++ headers (the launchers' declarations, included as "chNN/name.h" by
    tests); cu_hdrs (.cuh) hold device code only .cu files include. The .cu files include both
    by their plain names. Both libraries sit on chNN_headers (hdrs) on chNN_deps (deps), the
    layers every chapter's tests and variants compile against.
    """
    label = "ch" + chapter
    public = ["//visibility:public"]
    native.cc_library(
        name = label + "_deps",
        deps = deps + ["//chapters:course"],
        visibility = public,
    )
    native.cc_library(
        name = label + "_headers",
        hdrs = hdrs,
        strip_include_prefix = "/" + native.package_name(),
        include_prefix = label,
        deps = [":%s_deps" % label],
        visibility = public,
    )
    cuda_emu_library(
        name = label,
        cu_srcs = cu_srcs,
        cu_hdrs = cu_hdrs,
        # The rewritten .cu files live in a folder of their own: their includes of the chapter's
        # headers by plain name search the package's source and output folders.
        copts = ["-iquote", native.package_name(), "-iquote", "$(GENDIR)/" + native.package_name()],
        deps = [":%s_headers" % label],
        visibility = public,
    )
    native.cc_library(
        name = label + "_native",
        srcs = nvcc_objects(label + "_native", cu_srcs, hdrs + cu_hdrs + ["//chapters:course.h"]),
        deps = [":%s_headers" % label] + (["@cuda//:cudart"] if CUDA_FOUND else []),
        tags = ["manual"],
        visibility = public,
    )

def chapter_cuda_test(name, chapter, srcs, emulated_deps = [], native_deps = [], size = "small", tags = [], **kwargs):
    """chapter_test for a CUDA chapter: NAME and NAME_solution run through the emulator (the
    graded tests, everywhere); NAME_native and NAME_native_solution are built with nvcc for a
    GPU, tagged manual and "gpu" (they skip, counted, without one): tools/cuda/device_pack.sh packs
    the solution's for the GPU machine. emulated_deps and native_deps: the test plumbing that
    differs between the two (device memory, the emulator's reports).
    """
    chapter_test(name = name, chapter = chapter, srcs = srcs, deps = emulated_deps, size = size, tags = tags, **kwargs)
    folder = native.package_name().split("/")[-1]
    for suffix, tree in [("_native", "chapters"), ("_native_solution", "solutions")]:
        native.cc_test(
            name = name + suffix,
            srcs = srcs,
            copts = TT_TEST_COPTS,
            size = size,
            deps = ["//%s/%s:ch%s_native" % (tree, folder, chapter)] + native_deps + ["//tests/testing", "@googletest//:gtest_main"],
            tags = tags + ["manual", "gpu", "ch" + chapter],
            **kwargs
        )
