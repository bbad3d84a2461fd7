# Variants: one chapter built from other sources than its own, with that chapter's tests run
# against it. `./course known-bugs` builds the solution with one known bug patched in;
# `./course grade` builds each student's submission. Each variant is a generated Bazel package
# under .course/ (gitignored) holding one chapter_variant (tools/chapter.bzl), and all of them
# build and test in ONE bazel invocation: a variant whose headers are the solution's compiles
# only its own .cc files and links the solution's compiled test cases.
#
#   write_variant .course/known_bugs/02/greater_ge 02_strided_tensors /tmp/x/solutions/02_strided_tensors \
#                 "Known bug 02/greater_ge" "$(chapter_tests 02_strided_tensors light)"
#   bazel_cmd test --nocheck_visibility //.course/known_bugs/02/greater_ge:elementwise_test ...
#
# Sourced by ./course, which defines bazel_cmd and die. Visibility is not checked for variants
# (--nocheck_visibility): their packages use the tests' private helper libraries.

# A chapter's files, those of its skeleton's library, relative to the chapter's folder: hdrs are
# the public headers (the solution's chNN_headers, what tests include), srcs every other file of
# the folder the library is built from (.cc, private headers; .cu and .cuh in a CUDA chapter,
# whose library is made from rewritten copies). Files of the folder the library does not use
# (chapter 1's draw_graph.cc, a program) are neither.
#   chapter_files 02_strided_tensors srcs   ->  elementwise.cc matmul.cc reduce.cc ...
chapter_files() {
  local folder=$1 kind=$2 nn=${folder%%_*} hdrs
  hdrs=$(bazel_cmd query --noshow_progress "labels(hdrs, //solutions/$folder:ch${nn}_headers)" 2>/dev/null |
    sed "s#^//solutions/$folder:##" | sort)
  if [ "$kind" = hdrs ]; then echo "$hdrs" | tr '\n' ' '; return; fi
  bazel_cmd query --noshow_progress "kind('source file', deps(//chapters/$folder:ch$nn)) intersect //chapters/$folder:*" \
    2>/dev/null | sed "s#^//chapters/$folder:##" | sort | comm -23 - <(echo "$hdrs") | tr '\n' ' '
}

# How a chapter's library is made: "cc" (chapter_library: a variant compiles its sources on the
# solution's layers) or "build" (any other macro, e.g. chapter 7's chapter_cuda_library: a variant
# package is the skeleton's BUILD itself, whose macro builds the layers chNN_deps, chNN_headers
# and chNN wherever it runs, with the variant's files).
chapter_kind() {
  if grep -q '^chapter_library(' "chapters/$1/BUILD"; then echo cc; else echo build; fi
}

# The names of a chapter's tests; with "light", without those tagged heavy (whole training runs).
chapter_tests() {
  local folder=$1 all="attr(tags, '\\bstudent\\b', tests(//tests/$1:all))"
  local query=$all
  [ "${2:-}" = light ] && query="$all except attr(tags, '\\bheavy\\b', $all)"
  bazel_cmd query --noshow_progress "$query" 2>/dev/null | sed 's#.*:##' | tr '\n' ' '
}

# The environment a chapter's tests run with (chapter_test's `env`, as Starlark: {"A": "b"}), taken
# from its first test; "" when none.
chapter_env() {
  bazel_cmd query --noshow_progress --output=build "attr(tags, '\\bstudent\\b', tests(//tests/$1:all))" 2>/dev/null |
    sed -n 's/^  env = \(.*\),$/\1/p' | head -1
}

# What the solution of a chapter builds on (earlier chapters as //solutions:chMM, libraries).
chapter_deps() {
  local folder=$1
  bazel_cmd query --noshow_progress "labels(deps, //solutions/$folder:ch${folder%%_*}_deps)" 2>/dev/null |
    tr '\n' ' '
}

# srcs, hdrs, deps or tests of a chapter, cached for the run: `./course` writes tens of
# variants of one chapter, and each query costs bazel a second. load_facts fills the cache (in
# the calling shell, not in a $(...) subshell, where it would be lost); chapter_fact reads it.
declare -A VARIANT_FACTS=()
load_facts() {
  local folder=$1
  [ -n "${VARIANT_FACTS["$folder tests"]+set}" ] && return 0
  VARIANT_FACTS["$folder srcs"]=$(chapter_files "$folder" srcs)
  VARIANT_FACTS["$folder hdrs"]=$(chapter_files "$folder" hdrs)
  VARIANT_FACTS["$folder deps"]=$(chapter_deps "$folder")
  VARIANT_FACTS["$folder tests"]=$(chapter_tests "$folder")
  VARIANT_FACTS["$folder env"]=$(chapter_env "$folder")
  VARIANT_FACTS["$folder kind"]=$(chapter_kind "$folder")
}
chapter_fact() {
  [ -n "${VARIANT_FACTS["$1 $2"]+set}" ] || die "internal: load_facts $1 before asking for its $2"
  printf '%s' "${VARIANT_FACTS["$1 $2"]}"
}

# Starlark list of strings from words: "a b" -> ["a", "b"].
starlark_list() {
  local out="" word
  for word in $1; do out+="${out:+, }\"$word\""; done
  printf '[%s]' "$out"
}

# write_variant DIR FOLDER FROM DESCRIPTION TESTS [EARLIER...]
#   (Re)creates the package DIR: the chapter FOLDER's files taken from FROM (a file missing
#   there comes from the skeleton), its tests TESTS (names, space-separated), and a BUILD.
#   EARLIER ("02=//.course/grade/alice/02:ch02") replaces the solution of an earlier chapter
#   (chapter_library chapters); then, or when a header differs from the solution's, the tests
#   compile again against the variant.
write_variant() {
  local dir=$1 folder=$2 from=$3 description=$4 tests=$5
  shift 5
  local nn=${folder%%_*} srcs hdrs env f own_headers="" deps=""
  load_facts "$folder"
  srcs=$(chapter_fact "$folder" srcs)
  hdrs=$(chapter_fact "$folder" hdrs)
  env=$(chapter_fact "$folder" env)
  rm -rf "$dir"
  mkdir -p "$dir"
  for f in $srcs $hdrs; do
    mkdir -p "$dir/$(dirname "$f")"
    if [ -f "$from/$f" ]; then cp "$from/$f" "$dir/$f"; else cp "chapters/$folder/$f" "$dir/$f"; fi
  done
  for f in $hdrs; do cmp -s "$dir/$f" "solutions/$folder/$f" || own_headers=1; done
  if [ $# -gt 0 ]; then
    own_headers=1
    deps=$(chapter_fact "$folder" deps)
    local pair
    for pair in "$@"; do deps=${deps//\/\/solutions:ch${pair%%=*}/${pair#*=}}; done
  fi
  {
    echo "# Generated by ./course: $description. Rewritten on every run; do not edit."
    echo 'load("//tools:chapter.bzl", "chapter_variant")'
    if [ "$(chapter_fact "$folder" kind)" = build ]; then
      # The skeleton's own BUILD makes the library (its earlier chapters, if any, the solutions').
      echo
      cat "chapters/$folder/BUILD"
    fi
    echo
    echo "chapter_variant("
    echo "    chapter = \"$nn\","
    echo "    folder = \"$folder\","
    if [ "$(chapter_fact "$folder" kind)" = build ]; then
      echo "    library = \":ch$nn\","
    else
      echo "    srcs = $(starlark_list "$srcs"),"
      [ -n "$deps" ] && echo "    deps = $(starlark_list "$deps"),"
    fi
    [ -n "$own_headers" ] && echo "    hdrs = $(starlark_list "$hdrs"),"
    echo "    tests = $(starlark_list "$tests"),"
    [ -n "$env" ] && echo "    env = $env,"
    echo ")"
  } >"$dir/BUILD"
}

# The labels of a variant package's tests: variant_labels DIR "a_test b_test".
variant_labels() {
  local t
  for t in $2; do echo "//$1:$t"; done
}
