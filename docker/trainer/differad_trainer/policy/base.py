"""The policy backend interface: what the trainer needs from a model.

Two backends implement it: ``tiny`` (policy/tiny.py, a small pure-PyTorch
causal LM for tests) and ``hf`` (policy/hf.py, a transformers VLM with
optional DeepSpeed). Everything about the loss, idempotency, checkpoints'
labels and the HTTP API is backend-independent.
"""
from __future__ import annotations

import abc
import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch

from ..comm import Comm


@dataclasses.dataclass
class Prompt:
    """A prompt as the backend's model takes it: token ids plus any other model inputs (pixels)."""

    ids: List[int]
    inputs: Dict[str, Any] = dataclasses.field(default_factory=dict)


class NonFiniteGradient(ArithmeticError):
    """The step's gradient norm is inf/NaN; the update was not applied and the gradient was dropped."""


class Policy(abc.ABC):
    """A trainable policy π_θ with an optional frozen reference π_ref (docs/method.md §6)."""

    backend: str
    model_name: str
    #: Completions per forward/backward pass.
    chunk_size: int = 8
    #: True when gradients are averaged over ranks by the engine (DeepSpeed); scoring then scales by world size.
    averages_gradients: bool = False
    #: The ranks this policy trains on (set by the factory).
    comm: Comm = Comm()

    @property
    @abc.abstractmethod
    def has_reference(self) -> bool:
        """Whether a frozen copy of the starting weights is kept for β·KL."""

    @abc.abstractmethod
    def encode_prompt(self, messages: Sequence[dict], images: Sequence[bytes]) -> Prompt:
        """The prompt the way the inference server builds it (chat template, image tokens)."""

    @abc.abstractmethod
    def is_scorable(self, prompt: Prompt, token_ids: Sequence[int]) -> bool:
        """False when the model cannot score these ids (outside its vocabulary, or too long)."""

    @abc.abstractmethod
    def completion_logprobs(
        self, prompt: Prompt, completions: Sequence[Sequence[int]], temperature: float, reference: bool = False
    ) -> List[torch.Tensor]:
        """log π(token_t | prompt, tokens_<t) of every completion token at logits/T, one 1-D float32 tensor
        per completion; with grad for the policy, without for the reference."""

    @abc.abstractmethod
    def backward(self, loss: torch.Tensor, boundary: bool) -> None:
        """Accumulates the gradient of ``loss``; ``boundary`` marks the last backward of a step."""

    @abc.abstractmethod
    def optimizer_step(self, lr: float, max_grad_norm: float | None) -> float:
        """Applies the accumulated gradient (Adam/AdamW at ``lr``, clipped first when asked),
        zeroes it, and returns the gradient norm before clipping."""

    @abc.abstractmethod
    def zero_grad(self) -> None:
        """Drops the accumulated gradient (a failed micro-batch, a loaded checkpoint)."""

    @abc.abstractmethod
    def checkpoint_state(self) -> Dict[str, Any]:
        """Model, optimizer (and reference) state for torch.save."""

    @abc.abstractmethod
    def restore_checkpoint_state(self, state: Dict[str, Any]) -> None:
        """The inverse of checkpoint_state; a KeyError/RuntimeError when it does not fit."""

    @abc.abstractmethod
    def named_weights(self) -> Iterator[Tuple[str, torch.Tensor]]:
        """The full weights one tensor at a time, on every rank in the same order (ZeRO-3 gathers each)."""

    @abc.abstractmethod
    def export_weights(self, directory: Optional[str]) -> None:
        """Writes the weights as the inference servers load them into ``directory``. Every rank
        calls it (ZeRO-3 gathers collectively); rank 0 gets the directory, the others None."""

    def export_lora(self, directory: Optional[str]) -> None:
        """Writes the LoRA adapter (same calling convention); backends without one say so."""
        from ..errors import TrainerError

        raise TrainerError('TRAINER_BACKEND_UNSUPPORTED', f'the {self.backend} backend trains no LoRA adapter')

    def save_checkpoint(self, path: str, meta: Dict[str, Any]) -> None:
        """Saves meta + checkpoint_state atomically to ``path`` (one file, written by rank 0)."""
        from ..checkpoints import write_torch_checkpoint

        state = self.checkpoint_state()
        if self.comm.rank == 0:
            write_torch_checkpoint(path, {**meta, **state})
        self.comm.barrier()

    def load_checkpoint(self, path: str) -> Dict[str, Any]:
        """Loads ``path``; returns its meta (run, step, weight_version)."""
        from ..checkpoints import read_torch_checkpoint

        state = read_torch_checkpoint(path)
        self.restore_checkpoint_state(state)
        self.zero_grad()
        return state
