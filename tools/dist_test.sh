#!/usr/bin/env bash
# Copyright (c) mmvp contributors. All rights reserved.
# Usage: tools/dist_test.sh CONFIG CHECKPOINT NPROC [test.py args...]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR
# (127.0.0.1). Without CUDA the processes use the gloo backend on CPU.
# The launch itself (with --launcher pytorch) is tools/dist_run.sh.
set -euo pipefail

CONFIG=$1
CHECKPOINT=$2
NPROC=$3
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

exec bash "${TOOLS_DIR}/dist_run.sh" "${NPROC}" "${TOOLS_DIR}/test.py" \
    "${CONFIG}" "${CHECKPOINT}" "${@:4}"
