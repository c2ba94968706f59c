"""Ranks: rank 0 serves HTTP and broadcasts every command; the other ranks replay it.

docs/architecture.md §5: multi-GPU = one process per GPU (torchrun),
rank 0 answers HTTP and broadcasts each command to the other ranks over a
gloo group (commands are small Python objects; tensors go over NCCL inside
the engine). Every rank runs the same deterministic command on the same
state, so idempotency decisions agree without further messages.
"""
from __future__ import annotations

import os
from typing import Any, Iterable, List, Optional, Sequence

import torch


class Comm:
    """A single process: no collectives."""

    rank = 0
    world_size = 1

    def all_reduce_sum(self, values: Sequence[float]) -> List[float]:
        return list(values)

    def all_reduce_grads(self, params: Iterable[torch.nn.Parameter]) -> None:
        """Sums gradients over ranks (plain PyTorch multi-rank; DeepSpeed reduces by itself)."""

    def broadcast_command(self, command: Optional[Any]) -> Any:
        return command

    def barrier(self) -> None:
        """Waits for every rank."""


class DistComm(Comm):
    """torch.distributed, initialized from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR...)."""

    def __init__(self) -> None:
        import torch.distributed as dist

        self._dist = dist
        if not dist.is_initialized():
            backend = 'nccl' if torch.cuda.is_available() else 'gloo'
            if torch.cuda.is_available():
                torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', '0')))
            dist.init_process_group(backend=backend)
        self.rank = dist.get_rank()
        self.world_size = dist.get_world_size()
        # Commands travel on gloo (CPU objects), whatever the tensor backend.
        self._control = dist.new_group(backend='gloo')
        self._device = torch.device('cuda', torch.cuda.current_device()) if torch.cuda.is_available() else torch.device('cpu')

    def all_reduce_sum(self, values: Sequence[float]) -> List[float]:
        t = torch.tensor(list(values), dtype=torch.float64)
        self._dist.all_reduce(t, group=self._control)
        return t.tolist()

    def all_reduce_grads(self, params: Iterable[torch.nn.Parameter]) -> None:
        for p in params:
            if p.requires_grad:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                self._dist.all_reduce(p.grad)

    def broadcast_command(self, command: Optional[Any]) -> Any:
        box = [command]
        self._dist.broadcast_object_list(box, src=0, group=self._control)
        return box[0]

    def barrier(self) -> None:
        self._dist.barrier(group=self._control)


def create_comm() -> Comm:
    """DistComm under torchrun (WORLD_SIZE > 1), a single-process Comm otherwise."""
    if int(os.environ.get('WORLD_SIZE', '1')) > 1:
        return DistComm()
    return Comm()
