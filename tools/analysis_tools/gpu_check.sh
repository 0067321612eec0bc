#!/usr/bin/env bash
# Copyright (c) mmvp contributors. All rights reserved.
# The GPU acceptance run of the speed work, as one script that fits in about
# ten minutes on one GPU (the step limits add up to 600 s): the CUDA tests, the 50-iteration loss comparison of
# the fast paths against eager, the benchmark suite (eager and compiled
# regions, fp32 and bf16, batch 8 and 32) and the Human3.6M loader with the
# configs' worker count and with one worker per core.
#
#   bash tools/analysis_tools/gpu_check.sh [OUT_DIR]   (default work_dirs/gpu_check)
#
# Every step has its own time limit (seconds, in the table below), writes
# OUT_DIR/<step>.log and appends "<step> exit <status> <seconds>s" to
# OUT_DIR/summary.txt, so a step that fails or runs out of time does not stop
# the others. DRY_RUN=1 prints the steps instead of running them.
# SUITE_BUDGET (seconds, default 210) bounds the benchmark suite; it drops
# the entries at the end of its list (batch 32 first) when time runs out.
set -uo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-work_dirs/gpu_check}"
SUITE_BUDGET="${SUITE_BUDGET:-210}"
# nproc follows OMP_NUM_THREADS; the cores are what the process may use
CORES="$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc 2>/dev/null || echo 4)"
H36M=configs/motionrnn_predrnn_h36m.py
cd "${REPO_DIR}" || exit 2
mkdir -p "${OUT}"

step() {  # step NAME LIMIT_S COMMAND...
    local name=$1 limit=$2
    shift 2
    if [[ -n "${DRY_RUN:-}" ]]; then
        echo "${name} ${limit} $*"
        return 0
    fi
    echo "==> ${name} (at most ${limit} s): $*"
    local start=${SECONDS}
    CUDA_VISIBLE_DEVICES="${CUDA_VISIBLE_DEVICES:-0}" \
        timeout "${limit}" "$@" >"${OUT}/${name}.log" 2>&1
    local status=$?
    echo "${name} exit ${status} $((SECONDS - start))s" | tee -a "${OUT}/summary.txt"
    tail -n 25 "${OUT}/${name}.log"
}

step cuda_tests 90 python -m pytest tests/test_models/test_amp.py -k cuda -q
step loss_regions_tf32 90 python tools/analysis_tools/compare_fast_path.py \
    "${H36M}" --h36m --batch-size 8 --compile-regions --iters 50 \
    --rtol 1e-2 --json "${OUT}/loss_regions_tf32.json"
step loss_graphs_bf16 90 python tools/analysis_tools/compare_fast_path.py \
    "${H36M}" --h36m --batch-size 8 --amp bf16 --compile-regions \
    --compile-mode reduce-overhead --iters 50 --rtol 5e-2 \
    --json "${OUT}/loss_graphs_bf16.json"
step suite "$((SUITE_BUDGET + 30))" python tools/analysis_tools/benchmark_suite.py \
    --batch-sizes 8 32 --variants fp32 fp32-regions bf16 bf16-regions \
    --iters 10 --warmup 3 --time-budget "${SUITE_BUDGET}" \
    --out-dir "${OUT}/suite" --cudnn-benchmark --h36m --profile
step loader_config_workers 45 python tools/analysis_tools/benchmark_loader.py \
    --num-workers 4 --num-clips 64
step loader_all_cores 45 python tools/analysis_tools/benchmark_loader.py \
    --num-workers "${CORES}" --num-clips 128
