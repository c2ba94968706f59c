"""The trainer's side of an ``nccl`` weight sync with vLLM (docs/architecture.md §6).

vLLM ≥ 0.22 ships the sender: ``NCCLWeightTransferEngine.trainer_init`` joins
the trainer (rank 0 of the transfer group) and the vLLM workers (rank_offset
1..) in a StatelessProcessGroup, and ``trainer_send_weights`` broadcasts the
weights, optionally packed into large buffers. The orchestrator calls vLLM's
``/init_weight_transfer_engine`` with the same master address/port/world size
while this request is in flight, then ``/update_weights`` concurrently with
each send. Imported lazily: vLLM is in the image, not in CI.

``options`` of the request:

- ``master_address``, ``master_port``, ``world_size`` (trainer + every vLLM worker);
- ``packed`` (bool, default ``DIFFERAD_TRAINER_NCCL_PACKED``, false): packed or one-by-one
  broadcasts. It must equal the ``packed`` of vLLM's ``update_info``, whose default is false
  (vLLM 0.23.0 vllm/distributed/weight_transfer/nccl_engine.py, NCCLWeightTransferUpdateInfo;
  its NCCLTrainerSendWeightsArgs defaults to false too): the two sides otherwise run different
  collectives and hang. The orchestrator sends it explicitly to both;
- ``packed_buffer_size_bytes``, ``packed_num_buffers`` (must match vLLM's update_info when given);
- ``init`` (bool, default false): the orchestrator is (re)initializing the servers' transfer
  engines in this sync. Any group this trainer holds is torn down (its communicator aborted, its
  TCPStore on master_port released) and a fresh one created: a retried sync, a restarted
  orchestrator or a second worker re-inits vLLM against this trainer, and a cached group would
  leave vLLM waiting on a stale store forever.

The trainer holds at most one group. A send that fails tears it down too (a broadcast that
failed midway leaves the group unusable), so the next send creates a fresh one.
"""
from __future__ import annotations

import gc
import logging
from typing import Any, Dict, List, Optional, Tuple

from .comm import Comm
from .errors import TrainerError
from .policy.base import Policy

log = logging.getLogger('differad_trainer')

#: The one transfer group this (rank-0) trainer holds: ((address, port, world size), communicator).
_GROUP: Optional[Tuple[Tuple[str, int, int], Any]] = None


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


def _optional(options: Dict[str, Any], key: str, kind: type, default: Any) -> Any:
    value = options.get(key)
    if value is None:
        return default
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TrainerError('TRAINER_REQUEST_INVALID', f'options.{key} must be a {kind.__name__}',
                           {'fields': [{'field': f'options.{key}', 'message': f'expected {kind.__name__}'}]})
    return value


def drop_group() -> bool:
    """Tears down the transfer group, if any: aborts the communicator (PyNcclCommunicator.destroy,
    vllm/distributed/device_communicators/pynccl.py) and drops every reference to it and to its
    StatelessProcessGroup, whose TCPStore server (rank 0 hosts it: vllm/distributed/utils.py
    StatelessProcessGroup.create) then closes master_port. Returns whether there was one."""
    global _GROUP
    held, _GROUP = _GROUP, None
    if held is None:
        return False
    key, group = held
    try:
        destroy = getattr(group, 'destroy', None)
        if callable(destroy):
            destroy()
    except Exception as e:  # noqa: BLE001 - a broken communicator is dropped all the same
        log.warning('nccl transfer group %s: destroy failed: %s', key, e)
    del held, group
    gc.collect()
    log.info('nccl transfer group %s dropped', key)
    return True


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


def send_nccl(policy: Policy, comm: Comm, options: Dict[str, Any], default_packed: bool = False) -> int:
    """Broadcasts every weight to the vLLM workers; returns the bytes sent. Every trainer rank
    calls it (ZeRO-3 gathers parameters one at a time, collectively); only rank 0 sends."""
    global _GROUP
    address = _required(options, 'master_address', str)
    port = _required(options, 'master_port', int)
    world = _required(options, 'world_size', int)
    packed = _optional(options, 'packed', bool, default_packed)
    fresh = _optional(options, 'init', bool, False)
    extra = {k: _optional(options, k, int, None) for k in ('packed_buffer_size_bytes', 'packed_num_buffers')}
    extra = {k: v for k, v in extra.items() if v is not None}
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
    if _GROUP is not None and (fresh or _GROUP[0] != key):
        drop_group()
    try:
        if _GROUP is None:
            _GROUP = (key, engine.trainer_init({'master_address': address, 'master_port': port, 'world_size': world}))
        args = send_args(group=_GROUP[1], packed=packed, **extra)
        engine.trainer_send_weights(iterator=weights(), trainer_args=args)
    except Exception as e:
        drop_group()
        raise TrainerError('TRAINER_INTERNAL', f'the nccl weight send failed: {e}; the transfer group was dropped, '
                           're-initialize the inference servers\' transfer engines and send with options.init true',
                           {'nccl_group_dropped': True}) from e
    return sent
