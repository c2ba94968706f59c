#!/usr/bin/env bash
# The one place that turns differad's settings into `vllm serve` flags (docs/vllm-protocol.md §1, vLLM 0.32.0):
#   VLLM_SERVER_DEV_MODE=1 (set in the image)  the pause, collective_rpc and weight-transfer routes
#   --logprobs-mode processed_logprobs         log-probs of the distribution sampled from (temperature, top-k/p applied);
#                                              vLLM's default raw_logprobs would not match the trainer's ratio
#   --weight-transfer-config                   only for DIFFERAD_SYNC_BACKEND=nccl ({"backend":"nccl"}); vLLM has no disk
#                                              engine (a disk sync is collective_rpc reload_weights, which needs none)
#   --mm-processor-kwargs                      min_pixels/max_pixels, the trainer's DIFFERAD_TRAINER_MIN/MAX_PIXELS
#   --api-server-count 1                       every control call reaches the one API process that owns the engine client
# Extra arguments go to `vllm serve` (e.g. --max-model-len, --tensor-parallel-size). DIFFERAD_VLLM_DRY_RUN=1 prints
# the command instead of running it.
set -euo pipefail
: "${DIFFERAD_VLLM_MODEL:?set DIFFERAD_VLLM_MODEL to the model to serve, e.g. Qwen/Qwen2.5-VL-3B-Instruct}"
backend="${DIFFERAD_SYNC_BACKEND:-disk}"
min_pixels="${DIFFERAD_MIN_PIXELS:-3136}"
max_pixels="${DIFFERAD_MAX_PIXELS:-401408}"
for n in "$min_pixels" "$max_pixels"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "DIFFERAD_MIN_PIXELS/DIFFERAD_MAX_PIXELS must be positive integers, got '$n'" >&2; exit 2; }
done
(( min_pixels <= max_pixels )) || { echo "DIFFERAD_MIN_PIXELS ($min_pixels) must not exceed DIFFERAD_MAX_PIXELS ($max_pixels)" >&2; exit 2; }
args=(
  serve "${DIFFERAD_VLLM_MODEL}"
  --host 0.0.0.0
  --port "${DIFFERAD_VLLM_PORT:-8000}"
  --api-server-count 1
  --served-model-name "${DIFFERAD_VLLM_SERVED_NAME:-${DIFFERAD_VLLM_MODEL}}"
  --limit-mm-per-prompt '{"image":2}'
  --logprobs-mode processed_logprobs
  --mm-processor-kwargs "{\"min_pixels\":${min_pixels},\"max_pixels\":${max_pixels}}"
)
case "$backend" in
  nccl) args+=(--weight-transfer-config '{"backend":"nccl"}') ;;
  disk | none) ;;
  *) echo "DIFFERAD_SYNC_BACKEND must be disk, nccl or none, got '$backend'" >&2; exit 2 ;;
esac
if [[ "${DIFFERAD_VLLM_DRY_RUN:-0}" == 1 ]]; then
  printf '%q ' vllm "${args[@]}" "$@"
  echo
  exit 0
fi
exec vllm "${args[@]}" "$@"
