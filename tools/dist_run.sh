#!/usr/bin/env bash
# Copyright (c) mmvp contributors. All rights reserved.
# The torchrun launch shared by tools/dist_train.sh and tools/dist_test.sh.
# Usage: tools/dist_run.sh NPROC SCRIPT [SCRIPT args...]
# Runs SCRIPT (a path) in NPROC processes per node with the repository
# importable and --launcher pytorch before the SCRIPT args.
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR
# (127.0.0.1). Without CUDA the processes use the gloo backend on CPU.
set -euo pipefail

NPROC=$1
SCRIPT=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
TOOLS_DIR="$(cd "$(dirname "$0")" && pwd)"

PYTHONPATH="${TOOLS_DIR}/..${PYTHONPATH:+:${PYTHONPATH}}" \
exec python -m torch.distributed.run \
    --nnodes="${NNODES}" \
    --node_rank="${NODE_RANK}" \
    --master_addr="${MASTER_ADDR}" \
    --master_port="${PORT}" \
    --nproc_per_node="${NPROC}" \
    "${SCRIPT}" --launcher pytorch "${@:3}"
