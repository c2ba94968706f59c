#!/usr/bin/env bash
# The image's entrypoint: one trainer process per GPU under torchrun; rank 0 serves the trainer
# API on DIFFERAD_TRAINER_HOST:DIFFERAD_TRAINER_PORT and broadcasts every command to the others.
# DIFFERAD_TRAINER_GPUS (default: every visible GPU) sets the processes; extra args go to the trainer.
set -euo pipefail
gpus="${DIFFERAD_TRAINER_GPUS:-$(python -c 'import torch; print(max(1, torch.cuda.device_count()))')}"
exec torchrun --standalone --nnodes 1 --nproc-per-node "$gpus" -m differad_trainer "$@"
