"""The GRPO policy loss of docs/method.md §6, on per-token log-probs. Pure tensor math.

Per token t of completion i in group g:

    ratio_t = exp(log πθ(t) − log π_sampling(t))
    L_t     = −w_g · min(ratio_t·A_i, clip(ratio_t, 1−ε_low, 1+ε_high)·A_i) + β·KL_t
    KL_t    = exp(ref_t − cur_t) − (ref_t − cur_t) − 1          (k3 estimator, β > 0)

Normalization (docs/method.md §6): ``sequence`` = mean over a sequence's tokens, then
mean over sequences (default); ``token`` = mean over all tokens of the batch.
Denominators are passed in, so a micro-batch split over chunks or ranks sums
its parts to exactly the loss of the whole (see scoring.py).
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence

import torch


@dataclasses.dataclass(frozen=True)
class LossSettings:
    """The loss part of a forward_backward request (LossConfig in forward-backward.ts)."""

    clip_low: float = 0.2
    clip_high: float = 0.2
    beta: float = 0.0
    normalization: str = 'sequence'


@dataclasses.dataclass
class TokenTerms:
    """Per-token loss, whether the clipped term is active, and k3 KL (None without a reference)."""

    loss: torch.Tensor
    clipped: torch.Tensor
    kl: Optional[torch.Tensor]


def compute_token_terms(
    logp: torch.Tensor,
    sampling_logp: torch.Tensor,
    advantage: float,
    weight: float,
    settings: LossSettings,
    ref_logp: Optional[torch.Tensor] = None,
) -> TokenTerms:
    """docs/method.md §6 per token. ``clipped`` marks tokens whose clipped branch is the
    minimum *and* differs from the unclipped one, i.e. the surrogate gradient is 0
    (A > 0 and ratio > 1+ε_high, or A < 0 and ratio < 1−ε_low)."""
    ratio = torch.exp(logp - sampling_logp)
    bounded = torch.clamp(ratio, 1.0 - settings.clip_low, 1.0 + settings.clip_high)
    surrogate = torch.minimum(ratio * advantage, bounded * advantage)
    loss = -weight * surrogate
    with torch.no_grad():
        clipped = (ratio > 1.0 + settings.clip_high) if advantage > 0 else (ratio < 1.0 - settings.clip_low)
        if advantage == 0:
            clipped = torch.zeros_like(ratio, dtype=torch.bool)
    kl = None
    if ref_logp is not None:
        d = ref_logp - logp
        kl = torch.exp(d) - d - 1.0
        if settings.beta > 0:
            loss = loss + settings.beta * kl
    return TokenTerms(loss=loss, clipped=clipped, kl=kl)


def compute_sequence_contribution(token_loss: torch.Tensor, normalization: str, sequences: int, tokens: int) -> torch.Tensor:
    """One completion's share of the micro-batch loss: mean_t(L)/N_seq (sequence) or Σ_t L / N_tok (token)."""
    if normalization == 'sequence':
        return token_loss.mean() / sequences
    if normalization == 'token':
        return token_loss.sum() / tokens
    raise ValueError(f'unknown normalization {normalization!r}')


@dataclasses.dataclass
class SequenceInput:
    """One completion to score: its current, sampling and (optional) reference log-probs."""

    logp: torch.Tensor
    sampling_logp: torch.Tensor
    advantage: float
    weight: float
    ref_logp: Optional[torch.Tensor] = None


@dataclasses.dataclass
class LossResult:
    loss: torch.Tensor
    clip_fraction: float
    kl: Optional[float]
    sequences: int
    tokens: int


def compute_grpo_loss(batch: Sequence[SequenceInput], settings: LossSettings) -> LossResult:
    """The whole docs/method.md §6 loss of a batch, in one call (the reference for chunked scoring).

    An empty batch has loss 0 and clip fraction 0.
    """
    sequences = len(batch)
    tokens = sum(int(s.logp.numel()) for s in batch)
    if sequences == 0:
        return LossResult(loss=torch.zeros(()), clip_fraction=0.0, kl=None, sequences=0, tokens=0)
    parts: List[torch.Tensor] = []
    clipped = 0
    kl_sum: Optional[float] = 0.0
    for s in batch:
        terms = compute_token_terms(s.logp, s.sampling_logp, s.advantage, s.weight, settings, s.ref_logp)
        parts.append(compute_sequence_contribution(terms.loss, settings.normalization, sequences, tokens))
        clipped += int(terms.clipped.sum())
        kl_sum = None if terms.kl is None or kl_sum is None else kl_sum + float(terms.kl.detach().sum())
    return LossResult(
        loss=torch.stack(parts).sum(),
        clip_fraction=clipped / tokens,
        kl=None if kl_sum is None else kl_sum / tokens,
        sequences=sequences,
        tokens=tokens,
    )
