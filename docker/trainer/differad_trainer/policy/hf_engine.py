"""The optimizer side of the ``hf`` backend: plain PyTorch AdamW, or DeepSpeed ZeRO-2/3.

Both take one backward per chunk of completions (scoring.py scales the loss
for accumulation over API micro-batches) and one step per API step. DeepSpeed
runs with ``gradient_accumulation_steps = 1`` and the accumulation boundary set
by hand (``set_gradient_accumulation_boundary``): gradients are reduced in the
last backward of a step, the update applied in ``step``. Verified by reading
only; docker/trainer/gpu-check.sh runs the plain path (and ZeRO when
deepspeed is installed) on a GPU.
"""
from __future__ import annotations

import math
import os
import shutil
from typing import Any, Dict, Iterator, Optional, Tuple

import torch

from ..comm import Comm
from ..config import TrainerConfig
from ..errors import TrainerError
from .base import NonFiniteGradient


def is_zero3(ds_config: Dict[str, Any]) -> bool:
    return int(ds_config.get('zero_optimization', {}).get('stage', 0)) == 3


def _trainable(model: torch.nn.Module):
    return [p for p in model.parameters() if p.requires_grad]


class TorchEngine:
    """One process (or several summing gradients with Comm.all_reduce_grads); checkpoints via torch.save."""

    averages_gradients = False
    saves_itself = False

    def __init__(self, model: torch.nn.Module, config: TrainerConfig, comm: Comm, device: torch.device) -> None:
        self.model = model.to(device)
        self.forward_module = self.model
        self.comm = comm
        self.params = _trainable(self.model)
        # fp32 master weights for bf16/fp16 models: AdamW updates a parameter in its own dtype
        # (torch/optim/adam.py, _single_tensor_adam / _multi_tensor_adam: param.addcdiv_(exp_avg, denom,
        # value=-step_size)), and a bf16 weight has 8 significant bits, so an update of lr ≈ 1e-6 rounds
        # away and nothing is learned. The optimizer steps fp32 copies (its moments are fp32 too) and
        # the model gets them rounded back after every step; forward/backward stay in the model's dtype.
        self.masters: Optional[list] = None
        if any(p.dtype != torch.float32 for p in self.params):
            self.masters = [p.detach().float().clone().requires_grad_(True) for p in self.params]
        fused = {'fused': True} if device.type == 'cuda' else {}
        self.optimizer = torch.optim.AdamW(self.masters or self.params, lr=1e-6, weight_decay=config.weight_decay, **fused)

    def backward(self, loss: torch.Tensor, boundary: bool) -> None:
        loss.backward()

    def step(self, lr: float, max_grad_norm: Optional[float]) -> float:
        self.comm.all_reduce_grads(self.params)
        if self.masters is not None:
            for master, p in zip(self.masters, self.params):
                master.grad = None if p.grad is None else p.grad.float()
        stepped = self.masters or self.params
        norm = float(torch.nn.utils.clip_grad_norm_([p for p in stepped if p.grad is not None], max_grad_norm or float('inf')))
        if not math.isfinite(norm):
            self.zero_grad()
            raise NonFiniteGradient(norm)
        for group in self.optimizer.param_groups:
            group['lr'] = lr
        self.optimizer.step()
        self._masters_to_model()
        self.zero_grad()
        return norm

    @torch.no_grad()
    def _masters_to_model(self) -> None:
        if self.masters is not None:
            for master, p in zip(self.masters, self.params):
                p.copy_(master)

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        for p in self.params:
            p.grad = None

    def state(self) -> Dict[str, Any]:
        masters = None if self.masters is None else [m.detach().clone() for m in self.masters]
        return {'model': self.model.state_dict(), 'optimizer': self.optimizer.state_dict(), 'masters': masters}

    def restore(self, state: Dict[str, Any]) -> None:
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        if self.masters is not None:
            with torch.no_grad():
                saved = state.get('masters')
                for i, (master, p) in enumerate(zip(self.masters, self.params)):
                    # an older checkpoint without masters: start them from the (rounded) weights
                    master.copy_(saved[i] if saved is not None else p.float())

    def named_weights(self) -> Iterator[Tuple[str, torch.Tensor]]:
        for name, p in self.model.named_parameters():
            yield name, p.detach()

    def export(self, directory: Optional[str], processor: Any, adapter_only: bool) -> None:
        if directory is None:
            return
        self.model.save_pretrained(directory, safe_serialization=True)  # peft: the adapter only
        if processor is not None and not adapter_only:
            processor.save_pretrained(directory)


class DeepSpeedEngine:
    """DeepSpeed ZeRO-2/3; gradients averaged over ranks by DeepSpeed (scoring.py scales by world size)."""

    averages_gradients = True
    saves_itself = True

    def __init__(self, model: torch.nn.Module, config: TrainerConfig, comm: Comm, ds_config: Dict[str, Any]) -> None:
        import deepspeed

        self._ds = deepspeed
        self.comm = comm
        self.zero3 = is_zero3(ds_config)
        optimizer = torch.optim.AdamW(_trainable(model), lr=1e-6, weight_decay=config.weight_decay)
        self.engine, self.optimizer, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, config=ds_config)
        self.forward_module = self.engine
        self.model = self.engine.module

    def backward(self, loss: torch.Tensor, boundary: bool) -> None:
        self.engine.set_gradient_accumulation_boundary(boundary)
        self.engine.backward(loss)

    def step(self, lr: float, max_grad_norm: Optional[float]) -> float:
        for group in self.optimizer.param_groups:
            group['lr'] = lr
        if hasattr(self.optimizer, 'clip_grad'):  # ZeRO optimizers clip with this before the update
            self.optimizer.clip_grad = max_grad_norm or 0.0
        self.engine.set_gradient_accumulation_boundary(True)
        self.engine.step()
        norm = self.engine.get_global_grad_norm()
        norm = float(norm) if norm is not None else 0.0
        if not math.isfinite(norm):  # DeepSpeed skips a non-finite step itself
            raise NonFiniteGradient(norm)
        return norm

    def zero_grad(self) -> None:
        self.engine.zero_grad()

    def save(self, path: str, meta: Dict[str, Any]) -> None:
        """engine.save_checkpoint (every rank writes its shards) into ``path.tmp``, renamed by rank 0."""
        tmp = f'{path}.tmp'
        if self.comm.rank == 0 and os.path.exists(tmp):
            shutil.rmtree(tmp)
        self.comm.barrier()
        self.engine.save_checkpoint(tmp, tag='checkpoint', client_state=meta)
        self.comm.barrier()
        if self.comm.rank == 0:
            if os.path.exists(path):
                shutil.rmtree(path)
            os.replace(tmp, path)
        self.comm.barrier()

    def load(self, path: str) -> Dict[str, Any]:
        if not os.path.isdir(path):
            raise TrainerError('TRAINER_CHECKPOINT_NOT_FOUND', f'no DeepSpeed checkpoint directory at {path}', {'path': path})
        try:
            loaded, client = self.engine.load_checkpoint(path, tag='checkpoint')
        except Exception as e:  # noqa: BLE001
            raise TrainerError('TRAINER_CHECKPOINT_INVALID', f'cannot load {path}: {e}', {'path': path}) from e
        if loaded is None or not all(k in (client or {}) for k in ('run', 'step', 'weight_version')):
            raise TrainerError('TRAINER_CHECKPOINT_INVALID', f'{path} is not a differad DeepSpeed checkpoint', {'path': path})
        return client

    def state(self) -> Dict[str, Any]:
        raise NotImplementedError('DeepSpeed saves itself')

    def restore(self, state: Dict[str, Any]) -> None:
        raise NotImplementedError('DeepSpeed loads itself')

    def named_weights(self) -> Iterator[Tuple[str, torch.Tensor]]:
        """ZeRO-3: each parameter gathered on every rank in turn and copied, so at most one full
        tensor is materialized at a time (the nccl sender may keep it while packing)."""
        for name, p in self.model.named_parameters():
            if self.zero3:
                with self._ds.zero.GatheredParameters([p]):
                    yield name, p.data.detach().clone()
            else:
                yield name, p.detach()

    def export(self, directory: Optional[str], processor: Any, adapter_only: bool) -> None:
        if adapter_only:
            params = [p for n, p in self.model.named_parameters() if 'lora_' in n]
            with self._ds.zero.GatheredParameters(params, enabled=self.zero3):
                if directory is not None:
                    self.model.save_pretrained(directory)
            return
        state = self.engine._zero3_consolidated_16bit_state_dict() if self.zero3 else None  # collective
        if directory is None:
            return
        self.model.save_pretrained(directory, state_dict=state, safe_serialization=True)
        if processor is not None:
            processor.save_pretrained(directory)


def create_engine(model: torch.nn.Module, config: TrainerConfig, comm: Comm, ds_config: Optional[Dict[str, Any]], device: torch.device):
    if ds_config is not None:
        return DeepSpeedEngine(model, config, comm, ds_config)
    return TorchEngine(model, config, comm, device)
