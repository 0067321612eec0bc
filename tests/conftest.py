# Copyright (c) mmvp contributors. All rights reserved.
"""Shared pytest set-up: CPU only, headless plotting, one OpenMP thread.

Tests use tiny tensors, for which two OpenMP threads gain little; when the
cores are busy (tool tests start subprocesses, CI machines have 2 cores)
two spinning threads were measured 4x (suite) to 100x (single conv)
slower. ``OMP_NUM_THREADS`` must be set before torch is imported, hence
here; an explicit value in the environment wins. GPUs are hidden the same
way: ``CUDA_VISIBLE_DEVICES=0`` runs the CUDA tests on a GPU machine.
"""
import os

os.environ.setdefault('OMP_NUM_THREADS', '1')
os.environ.setdefault('MKL_NUM_THREADS', '1')
os.environ.setdefault('MPLBACKEND', 'Agg')
os.environ.setdefault('CUDA_VISIBLE_DEVICES', '')
