"""Trainer settings: read once from ``DIFFERAD_TRAINER_*`` environment variables, then frozen.

Only ``__main__`` and ``create_app``'s caller read the environment; everything
else takes a ``TrainerConfig``.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Mapping, Optional

_TRUE = {'1', 'true', 'yes', 'on'}
_FALSE = {'0', 'false', 'no', 'off'}


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """Everything the service needs; see docker/trainer/README.md for each variable."""

    backend: str = 'tiny'
    model: str = ''
    host: str = '127.0.0.1'
    port: int = 8200
    seed: int = 0
    checkpoint_dir: str = '/tmp/differad-trainer/checkpoints'
    weights_dir: str = '/tmp/differad-trainer/weights'
    #: Keep a frozen copy of the starting weights for β·KL (docs/method.md §6); None = backend default.
    reference: Optional[bool] = None
    freeze_vision: bool = True
    gradient_checkpointing: bool = True
    deepspeed_config: str = ''
    dtype: str = 'bf16'
    #: Completions per forward/backward pass (bounds activation memory).
    forward_chunk: int = 8
    #: Largest request body (413 past it). A forward_backward at the defaults (4 groups per micro-batch, each with
    #: two images of at most max_pixels sent once by hash, ≤ 1.6 MB base64 each, and 8 × 256 completion tokens at
    #: ~32 JSON bytes per token) is ~13 MB; 64 MiB, like the TS servers, leaves room without letting one body
    #: cost gigabytes once parsed (a 98 MB body peaked at 942 MB RSS).
    max_body_bytes: int = 64 * 1024 * 1024
    image_cache_bytes: int = 1024 * 1024 * 1024
    #: The Qwen resize bounds of docs/method.md §2; must equal the inference servers'.
    min_pixels: int = 3136
    max_pixels: int = 401_408
    weight_decay: float = 0.0
    lora_rank: int = 0
    lora_alpha: int = 32
    attn_implementation: str = 'sdpa'
    #: ``packed`` of an nccl weight send whose request gives none; false = vLLM's update_info default (weights.py).
    nccl_packed: bool = False
    tiny_vocab: int = 1024
    tiny_dim: int = 32
    tiny_layers: int = 2

    @property
    def model_name(self) -> str:
        return self.model or ('tiny-causal-lm' if self.backend == 'tiny' else 'unset')

    @property
    def keeps_reference(self) -> bool:
        """tiny keeps a reference by default (cheap); hf only when asked (a second model copy)."""
        return self.reference if self.reference is not None else self.backend == 'tiny'


def _parse_bool(name: str, raw: str) -> bool:
    v = raw.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(f'{name} must be true or false, got {raw!r}')


def load_config(env: Mapping[str, str], **overrides: object) -> TrainerConfig:
    """``DIFFERAD_TRAINER_<FIELD>`` for every field of TrainerConfig; ``overrides`` (flags) win.

    A ValueError names the variable that is wrong.
    """
    values = {}
    for f in dataclasses.fields(TrainerConfig):
        name = f'DIFFERAD_TRAINER_{f.name.upper()}'
        raw = env.get(name)
        if raw is None or raw == '':
            continue
        kind = f.type if isinstance(f.type, str) else getattr(f.type, '__name__', str(f.type))
        try:
            if 'bool' in kind:
                values[f.name] = _parse_bool(name, raw)
            elif kind == 'int':
                values[f.name] = int(raw)
            elif kind == 'float':
                values[f.name] = float(raw)
            else:
                values[f.name] = raw
        except ValueError as e:
            raise ValueError(f'{name}: {e}') from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    config = TrainerConfig(**values)
    if config.backend not in ('tiny', 'hf'):
        raise ValueError(f'DIFFERAD_TRAINER_BACKEND must be "tiny" or "hf", got {config.backend!r}')
    if config.backend == 'hf' and not config.model:
        raise ValueError('DIFFERAD_TRAINER_MODEL is required for the hf backend (a Hugging Face id or a local path)')
    if config.max_body_bytes < 1:
        raise ValueError('DIFFERAD_TRAINER_MAX_BODY_BYTES must be at least 1')
    if config.forward_chunk < 1:
        raise ValueError('DIFFERAD_TRAINER_FORWARD_CHUNK must be at least 1')
    if config.min_pixels > config.max_pixels:
        raise ValueError('DIFFERAD_TRAINER_MIN_PIXELS must not exceed DIFFERAD_TRAINER_MAX_PIXELS')
    return config


def config_from_environ() -> TrainerConfig:
    """The composition root's entry: the process environment."""
    return load_config(os.environ)
