"""Compiler flags in one place (abseil's shape): library code is strict, tests a little less."""

TT_DEFAULT_COPTS = [
    "-Wall",
    "-Wextra",
    "-Wvla",
    "-Wno-unused-parameter",
]

TT_TEST_COPTS = TT_DEFAULT_COPTS + [
    "-Wno-sign-compare",
]
