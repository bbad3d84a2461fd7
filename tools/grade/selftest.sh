#!/usr/bin/env bash
# The end-to-end test of `./course grade`: a batch of synthetic students of chapter 1, made
# from its solution, skeleton and known bugs, graded to the rows each must get. `./course test`
# runs it after its bazel passes (it calls bazel itself, so it cannot be a bazel test); alone:
#   bash tools/grade/selftest.sh [FOLDER]     (FOLDER: keep the batch's grades.csv and grades.json there)
# It prints the grade table, then one line per check; the last line is "grade self-test: N/N".
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
batch=$(mktemp -d)
trap 'rm -rf "$batch"' EXIT
folder=01_scalar_autograd

# student NAME FROM: a student whose chapters/01_scalar_autograd is a copy of FROM.
student() {
  mkdir -p "$batch/$1/chapters"
  cp -r "$2" "$batch/$1/chapters/$folder"
}
# edit NAME FILE PYTHON_OLD PYTHON_NEW: one exact replacement in that student's file.
edit() {
  /usr/bin/python3 - "$batch/$1/chapters/$folder/$2" "$3" "$4" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
assert text.count(old) == 1, f"{path}: {old!r} is not there once"
open(path, "w").write(text.replace(old, new))
PY
}

student solution "solutions/$folder"
student skeleton "chapters/$folder"
student one_bug "solutions/$folder"
git -C "$batch/one_bug/chapters/$folder" apply -p3 "$root/tests/$folder/known_bugs/relu_rule_at_zero.patch"
student no_compile "solutions/$folder"
edit no_compile nn.cc "  Value sum = bias_;" "  Value sum = bias_"
# An endless loop for large inputs (volatile: a loop without side effects may be assumed to end).
student hangs "solutions/$folder"
edit hangs value.cc "Value Value::tanh() const {" "Value Value::tanh() const {
  for (volatile int spin = 0; data() > 100; spin = spin + 1) {
  }"
# A wild write when log meets 0 (volatile, so the compiler keeps it): a segfault.
student crashes "solutions/$folder"
edit crashes value.cc "Value Value::log() const {" "Value Value::log() const {
  if (data() == 0) *reinterpret_cast<volatile int*>(uintptr_t{16}) = 1;"
# 3 GB for one pow: past the 2048 MB limit below, so the allocation fails at once.
student eats_memory "solutions/$folder"
edit eats_memory value.cc "Value Value::pow(double exponent) const {" "Value Value::pow(double exponent) const {
  static std::vector<char> hog;
  if (exponent == -1.5) hog.assign(size_t(3) << 30, 1);"
student includes_oracle "solutions/$folder"
edit includes_oracle value.cc '#include "ch01/value.h"' '#include "ch01/value.h"
#include "tinyref/tensor.h"'
student reads_expected_values "solutions/$folder"
edit reads_expected_values value.cc "#include <cmath>" "#include <cmath>
#include <fstream>
double expected_tanh(int i) {
  std::ifstream answers(\"tests/01_scalar_autograd/expected.txt\");
  double x = 0;
  for (int k = 0; k <= i; ++k) answers >> x;
  return x;
}"
student writes_outside "solutions/$folder"
edit writes_outside nn.cc "#include <cmath>" "#include <cmath>
#include <fstream>
void leave_a_note(double loss) { std::ofstream(\"../../../../../grades_override.csv\") << loss; }"
mkdir -p "$batch/hands_in_nothing"

./course grade "$batch" --chapters 01 --seeds 11,12 --timeout 20 --memory 2048 \
  --out "$batch/grades.csv" --json "$batch/grades.json"

# check DESCRIPTION STUDENT CHAPTER TASK AWK_CONDITION: the CSV row (student, chapter, task)
# exists and satisfies the condition ($4 passed, $5 total, $6 points, $8 status, $9 note).
passed=0 total=0
check() {
  total=$((total + 1))
  local row
  row=$(awk -F, -v s="$2" -v c="$3" -v t="$4" '$1 == s && $2 == c && $3 == t' "$batch/grades.csv")
  if [ -n "$row" ] && echo "$row" | awk -F, "{ exit !($5) }"; then
    passed=$((passed + 1))
    echo "  ok    $1"
  else
    echo "  FAIL  $1: row ${row:-(none)}"
  fi
}
echo "grade self-test:"
check "the solution gets 100" solution all all '$6 == 100.0'
check "the skeleton gets 0" skeleton all all '$6 == 0.0 && $5 > 0'
check "one known bug costs part of task 3 only" one_bug $folder 3 '$4 < $5 && $4 > 0'
check "... and the other tasks are whole" one_bug $folder all '$6 > 90 && $6 < 100'
check "a compile error is 0, with the compiler's line" no_compile $folder all \
  '$6 == 0 && $8 == "build_error" && $9 ~ /nn.cc:[0-9]+:[0-9]+: error/'
check "a hang loses the case that hangs, named with the time limit" hangs $folder 2 \
  '$4 < $5 && $9 ~ /timed out after 20 s/'
check "... while the other test binaries count in full" hangs $folder 5 '$4 == $5'
check "a crash loses the case that crashed, with its signal" crashes $folder 2 '$4 < $5 && $9 ~ /signal 11/'
check "memory past the limit fails the case that asked for it" eats_memory $folder 2 '$4 < $5 && $9 ~ /bad_alloc/'
check "including tinyref is flagged" includes_oracle $folder all '$8 == "flagged" && $9 ~ /tinyref\/tensor.h/ && $6 == 0'
check "reading expected values from disk is flagged" reads_expected_values $folder all \
  '$8 == "flagged" && $9 ~ /opens or lists files/'
check "writing outside the build folder is flagged" writes_outside $folder all '$8 == "flagged" && $9 ~ /writes files/'
check "a chapter not handed in is 0" hands_in_nothing $folder all '$8 == "missing" && $6 == 0'
check "the JSON has every student" solution all all "$(grep -c '"student":' "$batch/grades.json") == 11"
echo "grade self-test: $passed/$total"
if [ -n "${1:-}" ]; then mkdir -p "$1" && cp "$batch/grades.csv" "$batch/grades.json" "$1/"; fi
[ "$passed" = "$total" ]
