"""Pydantic models of trainer API v1.

A hand-written mirror of the zod schemas in packages/trainer-client/src/api/
(the source of truth). tests/test_schema_contract.py checks these models
against docs/trainer-api.json, which is emitted from the zod schemas, so the
two sides cannot drift. FastAPI never sees these models: bodies are parsed by
``parse_request`` in app.py, so the FastAPI/pydantic versions do not matter.
"""
from __future__ import annotations

import base64
import math
import struct
import sys
from array import array
from typing import Annotated, Any, Dict, List, Literal, Optional, Tuple, Union

from .json_types import (CheckpointPath, Count, JsonObject, Number, RefinementError, RunId, Step, StrictModel, TokenId,
                         WeightVersion, _Base64, integer, number)

try:  # pydantic 2 keeps the 1.x API under pydantic.v1
    from pydantic.v1 import BaseModel, Field, StrictBool, StrictStr, ValidationError, constr, root_validator
except ImportError:  # pragma: no cover - depends on the installed pydantic
    from pydantic import BaseModel, Field, StrictBool, StrictStr, ValidationError, constr, root_validator  # type: ignore

__all__ = ['BaseModel', 'ValidationError', 'COMPONENTS']

# ---- forward_backward (packages/trainer-client/src/api/forward-backward.ts) ----

class TrainerImage(StrictModel):
    sha256: constr(strict=True, regex=r'^[0-9a-f]{64}$')
    data: Optional[_Base64] = None
    media_type: Optional[Literal['image/png', 'image/jpeg', 'image/webp']] = None


class TextPart(StrictModel):
    type: Literal['text']
    text: StrictStr


class ImagePart(StrictModel):
    type: Literal['image']
    image: Count


MessagePart = Annotated[Union[TextPart, ImagePart], Field(discriminator='type')]


class ChatMessage(StrictModel):
    role: Literal['system', 'user', 'assistant']
    content: Union[StrictStr, List[MessagePart]]

    @root_validator(pre=True)
    def _part_types_are_strings(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        # pydantic 1.10.4 (Debian's) raises ConfigError, not a validation error, on an unhashable
        # discriminator ({"type": {}}), which would be a 500: refuse it here as zod does (a bad part).
        content = values.get('content')
        for i, part in enumerate(content if isinstance(content, list) else []):
            if isinstance(part, dict) and isinstance(part.get('type'), (dict, list)):
                raise RefinementError(field=f'content.{i}.type', message="a part's type is 'text' or 'image'")
        return values


#: The health ``features`` entry of a trainer that accepts ``completions[].packed`` (packed-tokens.ts).
PACKED_COMPLETIONS = 'packed_completions'
#: What this trainer understands beyond the base API (its health reply's ``features``).
FEATURES = [PACKED_COMPLETIONS]

_BIG_ENDIAN = sys.byteorder == 'big'
#: array typecodes of a 4-byte unsigned int and an 8-byte double on this machine ('I' is 4 bytes almost everywhere).
_UINT32 = next((t for t in 'IL' if array(t).itemsize == 4), None)
_FLOAT64 = 'd' if array('d').itemsize == 8 else None


def _uint32s(raw: bytes) -> List[int]:
    """Little-endian uint32s (len(raw) a multiple of 4) as plain ints."""
    if _UINT32 is None:  # pragma: no cover - no 4-byte array type on this machine
        return list(struct.unpack(f'<{len(raw) // 4}I', raw))
    values = array(_UINT32)
    values.frombytes(raw)
    if _BIG_ENDIAN:  # pragma: no cover - every machine the trainer runs on is little-endian
        values.byteswap()
    return values.tolist()


def _float64s(raw: bytes) -> List[float]:
    """Little-endian IEEE-754 float64s (len(raw) a multiple of 8) as plain floats, bit for bit."""
    if _FLOAT64 is None:  # pragma: no cover
        return list(struct.unpack(f'<{len(raw) // 8}d', raw))
    values = array(_FLOAT64)
    values.frombytes(raw)
    if _BIG_ENDIAN:  # pragma: no cover
        values.byteswap()
    return values.tolist()


class PackedTokens(StrictModel):
    """``completions[].packed``: the token ids as little-endian uint32 and the log-probs as
    little-endian float64, each base64 (packed-tokens.ts); the same numbers as the arrays, bit for bit."""

    token_ids: _Base64
    sampling_logprobs: _Base64


def unpack_tokens(packed: PackedTokens) -> Tuple[List[int], List[float]]:
    """(token_ids, sampling_logprobs) of a packed completion; RefinementError (field relative to the
    completion) when the bytes break the packed form's rules (packedProblem of packed-tokens.ts)."""
    ids = base64.b64decode(packed.token_ids)
    if len(ids) == 0 or len(ids) % 4 != 0:
        raise RefinementError(field='packed.token_ids',
                              message=f'needs 4 bytes (a little-endian uint32) per token id, at least one: got {len(ids)} bytes')
    lps = base64.b64decode(packed.sampling_logprobs)
    if len(lps) != 2 * len(ids):
        raise RefinementError(field='packed.sampling_logprobs',
                              message=f'needs 8 bytes (a little-endian float64) per token id: got {len(lps)} bytes for {len(ids) // 4} token ids')
    logprobs = _float64s(lps)
    if not all(map(math.isfinite, logprobs)):
        i = next(i for i, lp in enumerate(logprobs) if not math.isfinite(lp))
        raise RefinementError(field='packed.sampling_logprobs', message=f'log-prob {i} is not finite')
    return _uint32s(ids), logprobs


class Completion(StrictModel):
    """The arrays ``token_ids`` + ``sampling_logprobs``, or ``packed``. A valid packed completion is
    decoded here: the model then holds the two arrays and ``packed`` None, as if they had been sent."""

    text: constr(strict=True, max_length=1_000_000)
    token_ids: Optional[List[TokenId]] = Field(None, min_items=1)
    sampling_logprobs: Optional[List[Number]] = Field(None, min_items=1)
    packed: Optional[PackedTokens] = None
    advantage: Number
    weight: number(ge=0, le=100)
    truncated: StrictBool

    @root_validator(skip_on_failure=True)
    def _arrays_or_packed(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        # completionFormProblem of packed-tokens.ts, in its order.
        packed = values.get('packed')
        if packed is not None:
            if values.get('token_ids') is not None or values.get('sampling_logprobs') is not None:
                raise RefinementError(field='packed', message='give token_ids and sampling_logprobs, or packed, not both')
            values['token_ids'], values['sampling_logprobs'] = unpack_tokens(packed)
            values['packed'] = None
            return values
        for name in ('token_ids', 'sampling_logprobs'):
            if values.get(name) is None:
                raise RefinementError(field=name, message='required (or packed)')
        if len(values['sampling_logprobs']) != len(values['token_ids']):
            raise RefinementError(field='sampling_logprobs', message='needs one log-prob per token id')
        return values


class Group(StrictModel):
    pair_id: Optional[constr(strict=True, max_length=256)] = None
    images: List[TrainerImage] = Field(..., max_items=16)
    messages: List[ChatMessage] = Field(..., min_items=1)
    prompt_token_ids: Optional[List[TokenId]] = Field(...)
    completions: List[Completion] = Field(..., min_items=1, max_items=1024)

    @root_validator(skip_on_failure=True)
    def _image_parts_in_range(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        n = len(values['images'])
        for m in values['messages']:
            if not isinstance(m.content, str) and any(isinstance(p, ImagePart) and p.image >= n for p in m.content):
                raise RefinementError(field='messages', message="an image part points past the group's images")
        return values


class LossConfig(StrictModel):
    clip_low: number(ge=0, le=1)
    clip_high: number(ge=0, le=10)
    beta: number(ge=0, le=10)
    normalization: Literal['sequence', 'token']
    mask_truncated: StrictBool
    temperature: number(ge=1e-3, le=10)
    # The whole step's totals (docs/method.md §6.3); absent: normalize within the micro-batch.
    step_sequences: Optional[integer(1)] = None
    step_tokens: Optional[integer(1)] = None


class ForwardBackwardRequest(StrictModel):
    run: RunId
    step: Step
    micro_batch: integer(0, 65_535)
    micro_batches: integer(1, 65_536)
    loss: LossConfig
    prompt_mismatch: Optional[Literal['error', 'ignore']] = None
    groups: List[Group] = Field(..., min_items=1, max_items=4096)

    @root_validator(skip_on_failure=True)
    def _micro_batch_in_range(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values['micro_batch'] >= values['micro_batches']:
            raise RefinementError(field='micro_batch', message='must be less than micro_batches')
        return values


class MaskedCounts(StrictModel):
    truncated: Count
    unscorable: Count


class ForwardBackwardResponse(StrictModel):
    run: RunId
    step: Step
    micro_batch: Count
    duplicate: StrictBool
    loss: Optional[Number] = Field(...)
    clip_fraction: Optional[number(ge=0, le=1)] = Field(...)
    kl: Optional[Number] = Field(...)
    sequences: Count
    tokens: Count
    masked: MaskedCounts
    prompt_tokens_match: Optional[StrictBool] = Field(...)


# ---- control routes (packages/trainer-client/src/api/control.ts) ----

class PendingStep(StrictModel):
    step: Step
    received: Count
    expected: integer(1)


class HealthResponse(StrictModel):
    status: Literal['ok', 'starting']
    api_version: Literal['v1']
    backend: constr(strict=True, min_length=1)
    model: constr(strict=True, min_length=1)
    world_size: integer(1)
    run: Optional[RunId] = Field(...)
    step: Optional[Step] = Field(...)
    weight_version: Count
    pending: Optional[PendingStep] = Field(...)
    #: What the trainer understands beyond the base API (e.g. "packed_completions"); absent from older trainers.
    features: Optional[List[constr(strict=True, min_length=1)]] = Field(None, max_items=64)


class OptimStepRequest(StrictModel):
    run: RunId
    step: Step
    lr: number(gt=0, le=10)
    max_grad_norm: Optional[number(gt=0)] = Field(None, nullable=True)


class OptimStepResponse(StrictModel):
    run: RunId
    step: Step
    applied: StrictBool
    duplicate: StrictBool
    grad_norm: Optional[number(ge=0)] = Field(...)
    weight_version: WeightVersion
    micro_batches: Count
    sequences: Count

    @root_validator(skip_on_failure=True)
    def _applied_xor_duplicate(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if values['applied'] == values['duplicate']:
            raise RefinementError(field='applied', message='applied must be the opposite of duplicate')
        return values


class SaveCheckpointRequest(StrictModel):
    run: RunId
    step: Step
    path: Optional[CheckpointPath] = None


class LoadCheckpointRequest(StrictModel):
    path: Optional[CheckpointPath] = None
    run: Optional[RunId] = None
    step: Optional[Step] = None

    @root_validator(skip_on_failure=True)
    def _path_or_run_and_step(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        by_run = values.get('run') is not None and values.get('step') is not None
        if (values.get('path') is not None) == by_run:
            raise RefinementError(field='path', message='give either path, or run and step')
        return values


class CheckpointResponse(StrictModel):
    run: RunId
    step: Step
    weight_version: WeightVersion
    path: constr(strict=True, min_length=1)


WeightBackend = Literal['disk', 'nccl', 'lora']


class SendWeightsRequest(StrictModel):
    version: WeightVersion
    backend: WeightBackend
    path: Optional[constr(strict=True, min_length=1, max_length=4096)] = None
    options: Optional[JsonObject] = None


class SendWeightsResponse(StrictModel):
    backend: WeightBackend
    version: WeightVersion
    path: Optional[constr(strict=True, min_length=1)] = Field(...)
    bytes: Optional[Count] = Field(...)


class WeightsManifestRequest(StrictModel):
    version: WeightVersion


class WeightsManifestResponse(StrictModel):
    version: WeightVersion
    names: List[constr(strict=True, min_length=1)]
    dtypes: List[constr(strict=True, min_length=1)]
    shapes: List[List[Count]]

    @root_validator(skip_on_failure=True)
    def _same_lengths(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        if not len(values['names']) == len(values['dtypes']) == len(values['shapes']):
            raise RefinementError(field='names', message='names, dtypes and shapes must have the same length')
        return values


# ---- score_tokens (packages/trainer-client/src/api/score-tokens.ts) ----

class ScoredCompletion(StrictModel):
    text: constr(strict=True, max_length=1_000_000)
    token_ids: List[TokenId] = Field(..., min_items=1)


class ScoreTokensRequest(StrictModel):
    temperature: number(ge=1e-3, le=10)
    images: List[TrainerImage] = Field(..., max_items=16)
    messages: List[ChatMessage] = Field(..., min_items=1)
    prompt_token_ids: Optional[List[TokenId]] = Field(...)
    completions: List[ScoredCompletion] = Field(..., min_items=1, max_items=64)

    @root_validator(skip_on_failure=True)
    def _image_parts_in_range(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        n = len(values['images'])
        for m in values['messages']:
            if not isinstance(m.content, str) and any(isinstance(p, ImagePart) and p.image >= n for p in m.content):
                raise RefinementError(field='messages', message='an image part points past the images')
        return values


class ScoreTokensResponse(StrictModel):
    weight_version: WeightVersion
    prompt_tokens_match: Optional[StrictBool] = Field(...)
    logprobs: List[Optional[List[Number]]]


class FieldProblem(StrictModel):
    field: StrictStr
    message: StrictStr


class ErrorDetails(StrictModel):
    """zod ``looseObject``: any keys; ``fields`` names the wrong fields of a 400."""

    class Config:
        extra = 'allow'

    fields: Optional[List[FieldProblem]] = None


class ErrorDetail(StrictModel):
    code: constr(strict=True, regex=r'^[A-Z][A-Z0-9_]*$')
    message: StrictStr
    details: Optional[ErrorDetails] = None


class TrainerErrorBody(StrictModel):
    error: ErrorDetail


def request_payload(parsed: BaseModel, data: Dict[str, Any]) -> Dict[str, Any]:
    """The JSON ``data`` the commands get once ``parsed`` (its model) validated it: each packed
    completion becomes the plain arrays its model decoded (``packed`` gone), so the trainer past
    parse_request (scoring.py, loss.py, the ranks' broadcast) only ever sees the arrays."""
    if isinstance(parsed, ForwardBackwardRequest):
        for group, model_group in zip(data['groups'], parsed.groups):
            completions = group['completions']
            for i, (c, model_c) in enumerate(zip(completions, model_group.completions)):
                if 'packed' in c:
                    c = {k: v for k, v in c.items() if k != 'packed'}
                    c['token_ids'], c['sampling_logprobs'] = model_c.token_ids, model_c.sampling_logprobs
                    completions[i] = c
    return data


#: Component name in docs/trainer-api.json → model (what the schema test walks).
COMPONENTS = {
    'TrainerErrorBody': TrainerErrorBody,
    'HealthResponse': HealthResponse,
    'ForwardBackwardRequest': ForwardBackwardRequest,
    'ForwardBackwardResponse': ForwardBackwardResponse,
    'OptimStepRequest': OptimStepRequest,
    'OptimStepResponse': OptimStepResponse,
    'SaveCheckpointRequest': SaveCheckpointRequest,
    'CheckpointResponse': CheckpointResponse,
    'LoadCheckpointRequest': LoadCheckpointRequest,
    'SendWeightsRequest': SendWeightsRequest,
    'SendWeightsResponse': SendWeightsResponse,
    'WeightsManifestRequest': WeightsManifestRequest,
    'WeightsManifestResponse': WeightsManifestResponse,
    'ScoreTokensRequest': ScoreTokensRequest,
    'ScoreTokensResponse': ScoreTokensResponse,
}

