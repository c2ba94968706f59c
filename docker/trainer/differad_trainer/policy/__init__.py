"""Policy backends behind one interface (policy/base.py): ``tiny`` for tests, ``hf`` for real VLMs."""
from __future__ import annotations

from ..comm import Comm
from ..config import TrainerConfig
from .base import NonFiniteGradient, Policy, Prompt


def create_policy(config: TrainerConfig, comm: Comm) -> Policy:
    """The configured backend. ``hf`` imports transformers (and DeepSpeed) only here, lazily."""
    if config.backend == 'tiny':
        from .tiny import TinyPolicy

        return TinyPolicy(config, comm)
    if config.backend == 'hf':
        from .hf import HfPolicy

        return HfPolicy(config, comm)
    raise ValueError(f'unknown backend {config.backend!r}')


__all__ = ['NonFiniteGradient', 'Policy', 'Prompt', 'create_policy']
