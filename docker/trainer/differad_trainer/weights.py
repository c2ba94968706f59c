"""The trainer's side of an ``nccl`` weight sync with vLLM (docs/architecture.md §6).

The trainer joins the vLLM workers' transfer group as rank 0 (the workers at
rank_offset 1..) over a StatelessProcessGroup and broadcasts the weights, one
by one or packed into large buffers. The orchestrator calls vLLM's
``/init_weight_transfer_engine`` with the same master address/port/world size
(and ``packed``) while this request is in flight, then ``/update_weights``
concurrently with each send. Imported lazily: vLLM is in the image, not in CI.
The image pins vLLM 0.32.0, whose trainer side is the primitives
``nccl_common.trainer_init`` and ``packed_tensor.packed_nccl_broadcast_producer``
(vllm/distributed/weight_transfer/, used the way NCCLTrainerWeightTransferEngine._broadcast
uses them); vLLM 0.22–0.2x's ``NCCLWeightTransferEngine.trainer_init`` /
``trainer_send_weights`` are used when present.

``options`` of the request:

- ``master_address``, ``master_port``, ``world_size`` (trainer + every vLLM worker);
- ``packed`` (bool, default ``DIFFERAD_TRAINER_NCCL_PACKED``, false): packed or one-by-one
  broadcasts. It must equal the workers' ``packed``, whose default is false (vLLM 0.32.0
  nccl_common.py NCCLWeightTransferInitInfo.packed, set at init_weight_transfer_engine; vLLM
  0.23.0 nccl_engine.py NCCLWeightTransferUpdateInfo.packed, in update_info), while vLLM's own
  trainer-side default is true (0.32.0 NCCLTrainerInitInfo): the two sides otherwise run
  different collectives and hang. The orchestrator sends it explicitly to both;
- ``packed_buffer_size_bytes``, ``packed_num_buffers`` (must match the workers' when given);
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


class _SendArgs:
    """The send's wire parameters (vLLM 0.2x's NCCLTrainerSendWeightsArgs fields that differad uses)."""

    def __init__(self, group: Any, packed: bool = False, packed_buffer_size_bytes: Optional[int] = None,
                 packed_num_buffers: Optional[int] = None) -> None:
        self.group, self.packed = group, packed
        self.packed_buffer_size_bytes, self.packed_num_buffers = packed_buffer_size_bytes, packed_num_buffers


class _PrimitivesSender:
    """vLLM ≥ 0.3x: the trainer side from the transfer primitives, as NCCLTrainerWeightTransferEngine
    (nccl_engine.py) does it for its sender rank: trainer_init opens rank 0 of the group; the
    broadcast is packed_nccl_broadcast_producer, or one contiguous tensor at a time on the current
    stream; then the stream is synchronized (_post_send_sync) so the weights may change after."""

    def __init__(self, trainer_init: Any, producer: Any, default_buffer_bytes: int, default_buffers: int) -> None:
        self._init, self._producer = trainer_init, producer
        self._defaults = (default_buffer_bytes, default_buffers)

    def trainer_init(self, info: Dict[str, Any]) -> Any:
        return self._init(info)

    def trainer_send_weights(self, iterator: Any, trainer_args: _SendArgs) -> None:
        import torch

        group = trainer_args.group
        if trainer_args.packed:
            self._producer(iterator=iterator, group=group, src=0, post_iter_func=lambda item: item[1],
                           buffer_size_bytes=trainer_args.packed_buffer_size_bytes or self._defaults[0],
                           num_buffers=trainer_args.packed_num_buffers or self._defaults[1])
        else:
            stream = torch.cuda.current_stream() if torch.cuda.is_available() else None
            for _name, tensor in iterator:
                group.broadcast(tensor if tensor.is_contiguous() else tensor.contiguous(), src=0, stream=stream)
        if torch.cuda.is_available():
            torch.cuda.current_stream().synchronize()


def _import_sender():
    """(engine with trainer_init / trainer_send_weights, send-args class) of the installed vLLM."""
    try:
        from vllm.distributed.weight_transfer.nccl_engine import NCCLTrainerSendWeightsArgs, NCCLWeightTransferEngine
        return NCCLWeightTransferEngine, NCCLTrainerSendWeightsArgs
    except ImportError:
        pass
    try:
        from vllm.distributed.weight_transfer.nccl_common import trainer_init
        from vllm.distributed.weight_transfer.packed_tensor import (DEFAULT_PACKED_BUFFER_SIZE_BYTES, DEFAULT_PACKED_NUM_BUFFERS,
                                                                    packed_nccl_broadcast_producer)
    except ImportError as e:
        raise TrainerError(
            'TRAINER_BACKEND_UNSUPPORTED',
            f'the nccl weight send needs vLLM\'s weight-transfer primitives (the image pins vLLM in '
            f'docker/trainer/requirements.txt) and a CUDA device; import failed: {e}. Use backend "disk" instead.',
        ) from e
    return _PrimitivesSender(trainer_init, packed_nccl_broadcast_producer, DEFAULT_PACKED_BUFFER_SIZE_BYTES, DEFAULT_PACKED_NUM_BUFFERS), _SendArgs


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
