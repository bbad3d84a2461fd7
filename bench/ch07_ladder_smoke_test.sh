#!/usr/bin/env bash
# Builds and starts ch07_ladder where CI runs (no GPU): the program must say SKIPPED and exit 0.
# Where there is a GPU it runs the whole ladder at --quick sizes: every rung must pass its check.
set -uo pipefail
out=$("$1" --quick --reps 2 --samples 3 2>&1)
rc=$?
echo "$out"
[ "$rc" = 0 ] || { echo "ch07_ladder exited with $rc"; exit 1; }
echo "$out" | grep -qE '^(SKIPPED ch07_ladder|RESULT name=ch07_ladder\.matmul_register_tiled )' ||
  { echo "ch07_ladder printed neither SKIPPED nor the last rung's RESULT"; exit 1; }
