#!/usr/bin/env bash
# Starts `vllm serve` with the flags the weight sync needs (docs/architecture.md §6):
# VLLM_SERVER_DEV_MODE=1 (set in the image) exposes the weight-transfer and pause/resume routes,
# --weight-transfer-config picks the backend, and --api-server-count 1 keeps every control call on
# the one API process that owns the engine client. Extra arguments go to `vllm serve`
# (e.g. --max-model-len, --tensor-parallel-size, --enable-lora).
set -euo pipefail
: "${DIFFERAD_VLLM_MODEL:?set DIFFERAD_VLLM_MODEL to the model to serve, e.g. Qwen/Qwen2.5-VL-3B-Instruct}"
exec vllm serve "${DIFFERAD_VLLM_MODEL}" \
  --host 0.0.0.0 \
  --port "${DIFFERAD_VLLM_PORT:-8000}" \
  --api-server-count 1 \
  --weight-transfer-config "${DIFFERAD_VLLM_WEIGHT_TRANSFER_CONFIG}" \
  --served-model-name "${DIFFERAD_VLLM_SERVED_NAME:-${DIFFERAD_VLLM_MODEL}}" \
  --limit-mm-per-prompt '{"image": 2}' \
  "$@"
