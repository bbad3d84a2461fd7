#!/usr/bin/env bash
# Runs a test binary with at most $TT_MEMORY_MB megabytes of address space (default 4096), so
# that a submission that allocates without end fails with std::bad_alloc (one case) instead of
# taking the machine down. `bazel test --run_under=//tools/grade:limit_memory --test_env=TT_MEMORY_MB`.
ulimit -v $((${TT_MEMORY_MB:-4096} * 1024))
exec "$@"
