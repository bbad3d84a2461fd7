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
"""

load("//tools:copts.bzl", "TT_DEFAULT_COPTS", "TT_TEST_COPTS")

def _folder(chapter):
    return native.package_name().split("/")[-1]

def chapter_library(chapter, srcs = [], hdrs = [], deps = [], earlier = [], **kwargs):
    """The library of chapter `chapter` ("01"), in chapters/ or solutions/.

    earlier: the numbers of the chapters this one builds on ("02"). The student's library
    takes them through the //chapters:chNN aliases, the solution from the other solutions.
    """
    in_solutions = native.package_name().startswith("solutions/")
    if in_solutions:
        earlier_deps = ["//solutions:ch%s" % n for n in earlier]
    else:
        earlier_deps = ["//chapters:ch%s" % n for n in earlier]
    native.cc_library(
        name = "ch" + chapter,
        srcs = srcs,
        hdrs = hdrs,
        copts = TT_DEFAULT_COPTS,
        strip_include_prefix = "/" + native.package_name(),
        include_prefix = "ch" + chapter,
        deps = deps + earlier_deps + ["//chapters:course"],
        visibility = ["//visibility:public"],
        **kwargs
    )

def chapter_alias(chapter, folder):
    """In chapters/BUILD: //chapters:chNN, the student's chapter unless --define chNN=solution."""
    native.config_setting(
        name = "ch%s_solution" % chapter,
        define_values = {"ch" + chapter: "solution"},
    )
    native.alias(
        name = "ch" + chapter,
        actual = select({
            ":ch%s_solution" % chapter: "//solutions/%s:ch%s" % (folder, chapter),
            "//conditions:default": "//chapters/%s:ch%s" % (folder, chapter),
        }),
        visibility = ["//visibility:public"],
    )

def chapter_test(name, chapter, srcs, deps = [], data = [], size = "small", tags = [], **kwargs):
    """Two cc_tests from one source: NAME (student, manual) and NAME_solution."""
    folder = native.package_name().split("/")[-1]
    common = dict(
        srcs = srcs,
        copts = TT_TEST_COPTS,
        data = data,
        size = size,
        **kwargs
    )
    test_deps = deps + ["//tests/testing", "@googletest//:gtest_main"]
    native.cc_test(
        name = name,
        deps = ["//chapters/%s:ch%s" % (folder, chapter)] + test_deps,
        tags = tags + ["manual", "student", "ch" + chapter],
        **common
    )
    native.cc_test(
        name = name + "_solution",
        deps = ["//solutions/%s:ch%s" % (folder, chapter)] + test_deps,
        tags = tags + ["solution", "ch" + chapter],
        **common
    )
