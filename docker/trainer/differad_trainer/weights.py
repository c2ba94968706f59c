"""The trainer's side of an ``nccl`` weight sync with vLLM (docs/architecture.md §6).

vLLM ≥ 0.22 ships the sender: ``NCCLWeightTransferEngine.trainer_init`` joins
the trainer (rank 0 of the transfer group) and the vLLM workers (rank_offset
1..) in a StatelessProcessGroup, and ``trainer_send_weights`` broadcasts the
weights, optionally packed into large buffers. The orchestrator calls vLLM's
``/init_weight_transfer_engine`` with the same master address/port/world size
while this request is in flight, then ``/update_weights`` concurrently with
each send. Imported lazily: vLLM is in the image, not in CI.

``options`` of the request: ``master_address``, ``master_port``, ``world_size``
(trainer + every vLLM worker), ``packed`` (default true), ``packed_buffer_size_bytes``
and ``packed_num_buffers`` (must match the vLLM side when given).
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

from .comm import Comm
from .errors import TrainerError
from .policy.base import Policy

_GROUPS: Dict[Tuple[str, int, int], Any] = {}


def _import_sender():
    try:
        from vllm.distributed.weight_transfer.nccl_engine import NCCLTrainerSendWeightsArgs, NCCLWeightTransferEngine
    except ImportError as e:
        raise TrainerError(
            'TRAINER_BACKEND_UNSUPPORTED',
            f'the nccl weight send needs vLLM\'s weight-transfer sender (vllm>=0.22, the image pins it in '
            f'docker/trainer/requirements.txt) and a CUDA device; import failed: {e}. Use backend "disk" instead.',
        ) from e
    return NCCLWeightTransferEngine, NCCLTrainerSendWeightsArgs


def _required(options: Dict[str, Any], key: str, kind: type) -> Any:
    value = options.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise TrainerError('TRAINER_REQUEST_INVALID', f'options.{key} is required for the nccl backend',
                           {'fields': [{'field': f'options.{key}', 'message': f'required: {kind.__name__}'}]})
    return value


def weight_manifest(policy: Policy) -> Dict[str, List[Any]]:
    """``names``, ``dtypes`` (torch names without ``torch.``) and ``shapes`` of ``policy.named_weights()``,
    in broadcast order: vLLM's nccl ``update_weights`` takes them as ``update_info`` while the send runs.
    Every rank calls it (ZeRO-3 gathers collectively), like a send."""
    names: List[str] = []
    dtypes: List[str] = []
    shapes: List[List[int]] = []
    for name, tensor in policy.named_weights():
        names.append(name)
        dtypes.append(str(tensor.dtype).replace('torch.', ''))
        shapes.append([int(d) for d in tensor.shape])
    return {'names': names, 'dtypes': dtypes, 'shapes': shapes}


def send_nccl(policy: Policy, comm: Comm, options: Dict[str, Any]) -> int:
    """Broadcasts every weight to the vLLM workers; returns the bytes sent. Every trainer rank
    calls it (ZeRO-3 gathers parameters one at a time, collectively); only rank 0 sends."""
    address = _required(options, 'master_address', str)
    port = _required(options, 'master_port', int)
    world = _required(options, 'world_size', int)
    packed = bool(options.get('packed', True))
    # Every rank imports (and fails) alike, before any collective gather starts.
    engine, send_args = _import_sender()
    sent = 0

    def weights():
        nonlocal sent
        for name, tensor in policy.named_weights():
            sent += tensor.numel() * tensor.element_size()
            yield name, tensor

    if comm.rank != 0:
        for _ in weights():
            pass
        return 0
    key = (address, port, world)
    if key not in _GROUPS:
        _GROUPS[key] = engine.trainer_init({'master_address': address, 'master_port': port, 'world_size': world})
    extra = {k: options[k] for k in ('packed_buffer_size_bytes', 'packed_num_buffers') if isinstance(options.get(k), int)}
    args = send_args(group=_GROUPS[key], packed=packed, **extra)
    engine.trainer_send_weights(iterator=weights(), trainer_args=args)
    return sent
