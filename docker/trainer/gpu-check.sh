#!/usr/bin/env bash
# GPU smoke check of the trainer's production path (the hf backend with real transformers):
# builds a tiny random Qwen2-VL offline, then forward_backward + optim_step + checkpoint + disk
# weights through the trainer service on the GPU. Under two minutes; prints "gpu-check OK".
#
#   docker run --rm --gpus all --entrypoint /opt/differad/gpu-check.sh differad/trainer:dev  # in the image
#   docker/trainer/gpu-check.sh                                         # a CUDA env with requirements.txt
#   docker/trainer/gpu-check.sh --deepspeed docker/trainer/deepspeed/zero2.json
#
# Exit codes: 0 passed, 1 a check failed, 2 no CUDA device.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
exec timeout 300 "${PYTHON:-python3}" -m differad_trainer.gpu_check "$@"
