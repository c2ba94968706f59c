"""Requests for the tests: the reference group of docs/method.md §5.5 and a prompt the tiny model can score.

Mirrors packages/trainer-client/src/contract/contract-requests.ts: completions
get sampling log-probs = log π_θ₀ − log r, so the trainer sees ratio r on
every token of completion i at its starting weights.
"""
from __future__ import annotations

import base64
import copy
import hashlib
import math
import struct
from typing import Dict, List, Optional, Sequence

import torch

from differad_trainer.config import TrainerConfig
from differad_trainer.policy.fake_tokens import encode_messages
from differad_trainer.service import TrainerService

RUN = 'contract-run'
#: docs/method.md §5.5: R_loc of the reference group, its advantages (R = R_fmt + R_loc, unbiased std) and weight.
METHOD_R_LOC = [1, 0.742857, 0.4, 0, 0.971716, 0.1, 0, 0.6625]
METHOD_ADVANTAGES = [0.937476, 0.622508, 0.202552, -1.512270, 0.902832, -0.164910, -1.512270, 0.524081]
METHOD_WEIGHT = 1.423427
#: The ratios of the contract's clipped case (contract-requests.ts).
METHOD_RATIOS = [1.0, 1.5, 0.5, 0.5, 1.1, 1.0, 1.3, 0.9]
LOSS = {'clip_low': 0.2, 'clip_high': 0.2, 'beta': 0.0, 'normalization': 'sequence', 'mask_truncated': True, 'temperature': 1.0}

REFERENCE_PNG = b'\x89PNG\r\n\x1a\n reference image bytes'
TARGET_PNG = b'\x89PNG\r\n\x1a\n target image bytes'


def image(data: bytes, with_bytes: bool = True) -> Dict[str, object]:
    out: Dict[str, object] = {'sha256': hashlib.sha256(data).hexdigest()}
    if with_bytes:
        out.update(data=base64.b64encode(data).decode(), media_type='image/png')
    return out


def messages() -> List[dict]:
    """A system instruction and a user turn with the reference and target images (docs/method.md §7)."""
    return [
        {'role': 'system', 'content': 'Reason inside <think></think>, then answer the box inside <answer></answer>.'},
        {'role': 'user', 'content': [
            {'type': 'image', 'image': 0},
            {'type': 'image', 'image': 1},
            {'type': 'text', 'text': 'Compare the target with the reference: where is the anomaly on this bottle?'},
        ]},
    ]


def completion_ids(count: int = 9, length: int = 6, lengths: Optional[Sequence[int]] = None) -> List[List[int]]:
    lengths = list(lengths) if lengths is not None else [length] * count
    return [[(37 * i + 11 * t + 5) % 150_000 + 10 for t in range(n)] for i, n in enumerate(lengths)]


def starting_logprobs(service: TrainerService, ids: List[List[int]], temperature: float = 1.0) -> List[List[float]]:
    """log π_θ₀ of every completion token (the trainer's starting weights)."""
    policy = service.policy
    prompt = policy.encode_prompt(messages(), [REFERENCE_PNG, TARGET_PNG])
    with torch.no_grad():
        return [lp.tolist() for lp in policy.completion_logprobs(prompt, ids, temperature)]


def group(ids: List[List[int]], logps: List[List[float]], advantages: Sequence[float], ratios: Sequence[float],
          weight: float = METHOD_WEIGHT, truncated: Sequence[bool] = (), with_bytes: bool = True) -> dict:
    """One group whose completion i has ratio ratios[i] on every token."""
    msgs = messages()
    return {
        'pair_id': 'contract-pair',
        'images': [image(REFERENCE_PNG, with_bytes), image(TARGET_PNG, with_bytes)],
        'messages': msgs,
        'prompt_token_ids': encode_messages(msgs),
        'completions': [{
            'text': f'<think>completion {i}</think><answer>(1,2),(3,4)</answer>',
            'token_ids': ids[i],
            'sampling_logprobs': [lp - math.log(ratios[i]) for lp in logps[i]],
            'advantage': advantages[i],
            'weight': weight,
            'truncated': bool(truncated[i]) if i < len(truncated) else False,
        } for i in range(len(advantages))],
    }


def method_group(service: TrainerService, with_truncated: bool = False, ratios: Sequence[float] = METHOD_RATIOS) -> dict:
    """The docs/method.md §5.5 group (8 completions of 6 tokens), plus a truncated ninth with advantage 5."""
    ids = completion_ids()
    logps = starting_logprobs(service, ids)
    advantages = list(METHOD_ADVANTAGES) + ([5.0] if with_truncated else [])
    rs = list(ratios) + ([1.0] if with_truncated else [])
    return group(ids, logps, advantages, rs, truncated=[False] * 8 + [True])


def fb_request(groups: List[dict], step: int = 0, micro_batch: int = 0, micro_batches: int = 1, run: str = RUN, **loss) -> dict:
    return {'run': run, 'step': step, 'micro_batch': micro_batch, 'micro_batches': micro_batches,
            'loss': {**LOSS, **loss}, 'groups': groups}


def pack(token_ids: Sequence[int], logprobs: Sequence[float]) -> Dict[str, str]:
    """``completions[].packed`` (packTokens of packed-tokens.ts): base64 of little-endian uint32 ids and float64 log-probs."""
    return {'token_ids': base64.b64encode(struct.pack(f'<{len(token_ids)}I', *token_ids)).decode(),
            'sampling_logprobs': base64.b64encode(struct.pack(f'<{len(logprobs)}d', *logprobs)).decode()}


def packed_request(request: dict) -> dict:
    """A forward_backward request with every completion's arrays replaced by ``packed``."""
    out = copy.deepcopy(request)
    for g in out['groups']:
        for c in g['completions']:
            c['packed'] = pack(c.pop('token_ids'), c.pop('sampling_logprobs'))
    return out


def tiny_service(tmp_path, **overrides) -> TrainerService:
    config = TrainerConfig(backend='tiny', checkpoint_dir=str(tmp_path / 'checkpoints'), weights_dir=str(tmp_path / 'weights'), **overrides)
    service = TrainerService(config)
    service.load()
    return service


def hand_loss(advantages: Sequence[float], ratios: Sequence[float], weight: float, eps_low: float = 0.2, eps_high: float = 0.2):
    """docs/method.md §6 by hand for one group whose completions have equal lengths and one ratio each:
    L = −w · mean_i min(r_i A_i, clip(r_i) A_i); clip fraction = share with the clipped branch active."""
    terms, clipped = [], 0
    for a, r in zip(advantages, ratios):
        bounded = min(1 + eps_high, max(1 - eps_low, r))
        terms.append(min(r * a, bounded * a))
        clipped += (a > 0 and r > 1 + eps_high) or (a < 0 and r < 1 - eps_low)
    return -weight * sum(terms) / len(terms), clipped / len(terms)
