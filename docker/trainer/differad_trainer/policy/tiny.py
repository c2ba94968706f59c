"""The ``tiny`` backend: a small causal transformer LM in pure PyTorch, for tests.

Same interface as the ``hf`` backend, CPU-fast and deterministic in the seed.
Token ids are folded into a small vocabulary (``id mod V``): the fake vLLM
server's ids reach 151,655, and a test model needs no 150k-way softmax, so
log π(id) is the log-probability of the id's bucket. Prompts are tokenized
exactly like the fake vLLM server (policy/fake_tokens.py), so the prompt check
of docs/method.md §6 is real in tests.
"""
from __future__ import annotations

import copy
import math
import os
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import torch
from torch import nn

from ..comm import Comm
from ..config import TrainerConfig
from .base import NonFiniteGradient, Policy, Prompt
from .fake_tokens import encode_messages

BOS = 0
MAX_POSITIONS = 4096


class _Block(nn.Module):
    """Pre-norm causal self-attention + MLP (hand-written: identical math on every torch version)."""

    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads) + mask, dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, n, d)
        x = x + self.proj(y)
        return x + self.mlp(self.ln2(x))


class TinyCausalLM(nn.Module):
    """Embedding + learned positions + a few causal blocks + an output head over ``vocab`` buckets."""

    def __init__(self, vocab: int, dim: int, layers: int, heads: int = 2) -> None:
        super().__init__()
        self.vocab = vocab
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Embedding(MAX_POSITIONS, dim)
        self.blocks = nn.ModuleList(_Block(dim, heads) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, vocab)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        n = ids.shape[1]
        x = self.embed(ids % self.vocab) + self.pos(torch.arange(n))
        mask = torch.triu(torch.full((n, n), float('-inf')), diagonal=1)
        for block in self.blocks:
            x = block(x, mask)
        return self.head(self.ln(x))


class TinyPolicy(Policy):
    """TinyCausalLM with Adam(W), a frozen reference copy and torch.save checkpoints."""

    backend = 'tiny'

    def __init__(self, config: TrainerConfig, comm: Comm) -> None:
        self.comm = comm
        self.model_name = config.model_name
        self.chunk_size = config.forward_chunk
        self.architecture = {'vocab': config.tiny_vocab, 'dim': config.tiny_dim, 'layers': config.tiny_layers}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.model = TinyCausalLM(**self.architecture)
        self.reference = None
        if config.keeps_reference:
            self.reference = copy.deepcopy(self.model).requires_grad_(False)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=1e-3, weight_decay=config.weight_decay)

    @property
    def has_reference(self) -> bool:
        return self.reference is not None

    def encode_prompt(self, messages: Sequence[dict], images: Sequence[bytes]) -> Prompt:
        return Prompt(ids=encode_messages(messages))

    def is_scorable(self, prompt: Prompt, token_ids: Sequence[int]) -> bool:
        return 1 + len(prompt.ids) + len(token_ids) <= MAX_POSITIONS

    def completion_logprobs(
        self, prompt: Prompt, completions: Sequence[Sequence[int]], temperature: float, reference: bool = False
    ) -> List[torch.Tensor]:
        model = self.reference if reference else self.model
        if model is None:
            raise RuntimeError('no reference model')
        start = 1 + len(prompt.ids)  # position of the first completion token
        longest = max(len(c) for c in completions)
        rows = [[BOS, *prompt.ids, *c] + [BOS] * (longest - len(c)) for c in completions]
        ids = torch.tensor(rows, dtype=torch.long)
        with torch.set_grad_enabled(not reference and torch.is_grad_enabled()):
            logits = model(ids)[:, start - 1 : start - 1 + longest] / temperature
            logp = torch.log_softmax(logits.float(), dim=-1)
            picked = logp.gather(-1, (ids[:, start:] % model.vocab).unsqueeze(-1)).squeeze(-1)
        return [picked[i, : len(c)] for i, c in enumerate(completions)]

    def backward(self, loss: torch.Tensor, boundary: bool) -> None:
        loss.backward()

    def optimizer_step(self, lr: float, max_grad_norm: float | None) -> float:
        self.comm.all_reduce_grads(self.model.parameters())
        params = [p for p in self.model.parameters() if p.grad is not None]
        norm = float(torch.nn.utils.clip_grad_norm_(params, max_grad_norm or float('inf'))) if params else 0.0
        if not math.isfinite(norm):
            self.zero_grad()
            raise NonFiniteGradient(norm)
        for group in self.optimizer.param_groups:
            group['lr'] = lr
        self.optimizer.step()
        self.zero_grad()
        return norm

    def zero_grad(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)

    def checkpoint_state(self) -> Dict[str, Any]:
        return {
            'backend': self.backend,
            'architecture': dict(self.architecture),
            'model': self.model.state_dict(),
            'optimizer': self.optimizer.state_dict(),
            'reference': None if self.reference is None else self.reference.state_dict(),
        }

    def restore_checkpoint_state(self, state: Dict[str, Any]) -> None:
        if state.get('backend') != self.backend or state.get('architecture') != self.architecture:
            raise ValueError(f"a {state.get('backend')} checkpoint of {state.get('architecture')} does not fit this {self.architecture} model")
        self.model.load_state_dict(state['model'])
        self.optimizer.load_state_dict(state['optimizer'])
        if self.reference is not None and state.get('reference') is not None:
            self.reference.load_state_dict(state['reference'])

    def named_weights(self) -> Iterator[Tuple[str, torch.Tensor]]:
        for name, p in self.model.named_parameters():
            yield name, p.detach()

    def export_weights(self, directory: Optional[str]) -> None:
        if directory is None:
            return
        tensors = {name: t.contiguous().clone() for name, t in self.named_weights()}
        try:
            from safetensors.torch import save_file
        except ImportError:
            torch.save(tensors, os.path.join(directory, 'model.pt'))
        else:
            save_file(tensors, os.path.join(directory, 'model.safetensors'), metadata={'format': 'pt'})
        with open(os.path.join(directory, 'config.json'), 'w', encoding='utf-8') as f:
            import json

            json.dump({'model_type': 'differad-tiny', **self.architecture}, f)
