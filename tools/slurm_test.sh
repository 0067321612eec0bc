#!/usr/bin/env bash
# Copyright (c) mmvp contributors. All rights reserved.
# Usage: tools/slurm_test.sh PARTITION JOB_NAME CONFIG CHECKPOINT [args...]
# Environment: GPUS (8), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS.
# The launch itself (PARTITION, JOB_NAME, --launcher slurm) is
# tools/slurm_run.sh.
set -euo pipefail

CONFIG=$3
CHECKPOINT=$4
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

exec bash "${TOOLS_DIR}/slurm_run.sh" "$1" "$2" "${TOOLS_DIR}/test.py" \
    "${CONFIG}" "${CHECKPOINT}" "${@:5}"
