"""One micro-batch: rebuild the prompts, check them, score the completions, accumulate the gradient.

The loss is docs/method.md §6 (loss.py). A micro-batch is cut into chunks of
completions that share a prompt, and, with several ranks, dealt round-robin
over the ranks. Every completion's contribution is divided by one global
denominator known to every rank from the request, so the chunks', ranks' and
micro-batches' gradients simply *sum*:

- with ``loss.step_sequences`` / ``loss.step_tokens`` (docs/method.md §6.3) the
  denominator is the whole step's total, masked (truncated, unscorable)
  completions included, contributing 0: the research code's "mean over a
  sequence's tokens, then mean over every sequence of the step", so the
  step's gradient is the same for any split into micro-batches;
- without them (older clients) it is the micro-batch's own count of scored
  completions (tokens) and the gradient is scaled by 1/micro_batches, exact
  only for equal micro-batches without masked completions.

The gradient is also scaled by the world size when the engine averages
gradients over ranks. The reported ``loss`` is always the micro-batch's own
mean over its scored completions (tokens), whatever the gradient's denominator.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Sequence, Tuple

import torch

from .comm import Comm
from .errors import TrainerError
from .loss import LossSettings, compute_sequence_contribution, compute_token_terms
from .policy.base import Policy, Prompt


@dataclasses.dataclass
class ScoredMicroBatch:
    loss: float
    clip_fraction: float
    kl: Optional[float]
    sequences: int
    tokens: int
    masked_truncated: int
    masked_unscorable: int
    prompt_tokens_match: Optional[bool]


@dataclasses.dataclass
class _Prepared:
    prompts: List[Prompt]
    #: (group index, completion index) of every completion in the loss.
    items: List[Tuple[int, int]]
    truncated: int
    unscorable: int
    prompt_tokens_match: Optional[bool]


def _first_difference(a: Sequence[int], b: Sequence[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def prepare_micro_batch(request: dict, policy: Policy, images: List[List[bytes]]) -> _Prepared:
    """Prompts as the model's processor builds them, compared with the server's ids (docs/method.md §6:
    the trainer must score exactly what was sampled), and the completions that enter the loss."""
    prompts: List[Prompt] = []
    checked: List[bool] = []
    mismatches = []
    for gi, group in enumerate(request['groups']):
        prompt = policy.encode_prompt(group['messages'], images[gi])
        prompts.append(prompt)
        server = group['prompt_token_ids']
        if server is None:
            continue
        checked.append(prompt.ids == list(server))
        if not checked[-1]:
            at = _first_difference(prompt.ids, server)
            mismatches.append({'group': gi, 'first_difference': at, 'trainer_tokens': len(prompt.ids), 'server_tokens': len(server),
                               'trainer_ids_near': prompt.ids[at:at + 8], 'server_ids_near': list(server[at:at + 8])})
    if mismatches and request.get('prompt_mismatch', 'error') != 'ignore':
        first = mismatches[0]
        raise TrainerError(
            'TRAINER_PROMPT_MISMATCH',
            f"group {first['group']}: the trainer's prompt tokenization differs from the server's at token {first['first_difference']} "
            f"({first['trainer_tokens']} vs {first['server_tokens']} tokens); the model would be trained on a prompt it did not see "
            '(send prompt_mismatch "ignore" to train anyway)',
            {'groups': mismatches},
        )
    items: List[Tuple[int, int]] = []
    truncated = unscorable = 0
    for gi, group in enumerate(request['groups']):
        for ci, c in enumerate(group['completions']):
            if c['truncated'] and request['loss']['mask_truncated']:
                truncated += 1
            elif not policy.is_scorable(prompts[gi], c['token_ids']):
                unscorable += 1
            else:
                items.append((gi, ci))
    return _Prepared(prompts, items, truncated, unscorable, all(checked) if checked else None)


def _chunks(items: Sequence[Tuple[int, int]], size: int) -> List[List[Tuple[int, int]]]:
    """Consecutive items of one group, at most ``size`` per chunk."""
    out: List[List[Tuple[int, int]]] = []
    for item in items:
        if out and out[-1][0][0] == item[0] and len(out[-1]) < size:
            out[-1].append(item)
        else:
            out.append([item])
    return out


def score_micro_batch(request: dict, prepared: _Prepared, policy: Policy, comm: Comm, boundary: bool) -> ScoredMicroBatch:
    """Forward + backward of this rank's share; the returned numbers are the whole micro-batch's."""
    cfg = request['loss']
    settings = LossSettings(cfg['clip_low'], cfg['clip_high'], cfg['beta'], cfg['normalization'])
    if settings.beta > 0 and not policy.has_reference:
        raise TrainerError('TRAINER_BACKEND_UNSUPPORTED', 'beta > 0 needs the frozen reference model: start the trainer with DIFFERAD_TRAINER_REFERENCE=true')
    groups = request['groups']
    completion = lambda item: groups[item[0]]['completions'][item[1]]  # noqa: E731
    sequences = len(prepared.items)
    tokens = sum(len(completion(i)['token_ids']) for i in prepared.items)
    # What the micro-batch reports: its own mean. What the gradient divides by: the step's total when given.
    own = max(sequences, 1) if settings.normalization == 'sequence' else max(tokens, 1)
    step_total = cfg.get('step_sequences') if settings.normalization == 'sequence' else cfg.get('step_tokens')
    denominator = step_total if step_total is not None else own
    accumulation = 1.0 if step_total is not None else 1.0 / request['micro_batches']
    # The same number of passes on every rank (ZeRO-3 gathers parameters collectively in forward).
    per_rank = [_chunks(prepared.items[r::comm.world_size], policy.chunk_size) for r in range(comm.world_size)]
    passes = max(len(c) for c in per_rank)
    if boundary and policy.averages_gradients and passes == 0:
        passes = 1  # the engine reduces gradients in the step's last backward: run one, with zero loss
    mine = per_rank[comm.rank]
    filler = prepared.items[0] if prepared.items else (0, 0)
    scale = accumulation * (comm.world_size if policy.averages_gradients else 1)
    loss_sum = clipped = kl_sum = 0.0
    for k in range(passes):
        dummy = k >= len(mine)
        chunk = mine[k] if not dummy else [filler]
        prompt = prepared.prompts[chunk[0][0]]
        ids = [completion(i)['token_ids'] for i in chunk]
        logps = policy.completion_logprobs(prompt, ids, cfg['temperature'])
        refs = policy.completion_logprobs(prompt, ids, cfg['temperature'], reference=True) if policy.has_reference else [None] * len(ids)
        parts = []
        for item, logp, ref in zip(chunk, logps, refs):
            c = completion(item)
            sampling = torch.tensor(c['sampling_logprobs'], dtype=logp.dtype, device=logp.device)
            terms = compute_token_terms(logp, sampling, c['advantage'], c['weight'], settings, ref)
            # mean_t L (sequence) or Σ_t L (token); divided by the denominator below
            parts.append(compute_sequence_contribution(terms.loss, settings.normalization, 1, 1))
            if not dummy:
                clipped += float(terms.clipped.sum())
                kl_sum += 0.0 if terms.kl is None else float(terms.kl.detach().sum())
        numerator = torch.stack(parts).sum() * (0.0 if dummy else 1.0)
        loss_sum += float(numerator.detach()) / own
        policy.backward(numerator / denominator * scale, boundary=boundary and k == passes - 1)
    loss_sum, clipped, kl_sum = comm.all_reduce_sum([loss_sum, clipped, kl_sum])
    return ScoredMicroBatch(
        loss=loss_sum,
        clip_fraction=clipped / tokens if tokens else 0.0,
        kl=(kl_sum / tokens if tokens else 0.0) if policy.has_reference else None,
        sequences=sequences,
        tokens=tokens,
        masked_truncated=prepared.truncated,
        masked_unscorable=prepared.unscorable,
        prompt_tokens_match=prepared.prompt_tokens_match,
    )


def score_tokens(request: dict, policy: Policy, images: List[bytes]) -> dict:
    """The log-probs ``POST /v1/score_tokens`` answers: every scorable completion at logits/T under the
    current weights, without a gradient, in chunks of ``policy.chunk_size``; the prompt compared with
    the server's ids like forward_backward does, reported instead of refused."""
    prompt = policy.encode_prompt(request['messages'], images)
    server = request['prompt_token_ids']
    ids = [c['token_ids'] for c in request['completions']]
    scorable = [i for i, c in enumerate(ids) if policy.is_scorable(prompt, c)]
    out: List[Optional[List[float]]] = [None] * len(ids)
    with torch.no_grad():
        for start in range(0, len(scorable), policy.chunk_size):
            chunk = scorable[start:start + policy.chunk_size]
            for i, logp in zip(chunk, policy.completion_logprobs(prompt, [ids[i] for i in chunk], request['temperature'])):
                out[i] = [float(x) for x in logp.tolist()]
    return {'prompt_tokens_match': None if server is None else prompt.ids == list(server), 'logprobs': out}
