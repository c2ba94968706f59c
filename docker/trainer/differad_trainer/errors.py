"""The trainer's one error type and the error codes of trainer API v1.

Codes and statuses are TRAINER_ERROR_CODES of packages/trainer-client/src/api/common.ts;
every non-2xx reply is ``{"error": {"code", "message", "details"}}``.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

#: Error code → HTTP status, exactly as in common.ts (tests/test_schema_contract.py checks the list).
ERROR_STATUS: Dict[str, int] = {
    'TRAINER_REQUEST_INVALID': 400,
    'TRAINER_BACKEND_UNSUPPORTED': 400,
    'TRAINER_NOT_FOUND': 404,
    'TRAINER_CHECKPOINT_NOT_FOUND': 404,
    'TRAINER_METHOD_NOT_ALLOWED': 405,
    'TRAINER_RUN_MISMATCH': 409,
    'TRAINER_STEP_CONFLICT': 409,
    'TRAINER_STEP_INCOMPLETE': 409,
    'TRAINER_VERSION_MISMATCH': 409,
    'TRAINER_IMAGE_UNKNOWN': 409,
    'TRAINER_BODY_TOO_LARGE': 413,
    'TRAINER_CHECKPOINT_INVALID': 422,
    'TRAINER_PROMPT_MISMATCH': 422,
    'TRAINER_INTERNAL': 500,
}


class TrainerError(Exception):
    """An expected failure of a trainer command, answered with ``code``'s status."""

    def __init__(self, code: str, message: str, details: Optional[Dict[str, Any]] = None) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f'unknown trainer error code {code}')
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]

    def to_body(self) -> Dict[str, Any]:
        error: Dict[str, Any] = {'code': self.code, 'message': self.message}
        if self.details is not None:
            error['details'] = self.details
        return {'error': error}


def invalid_request(fields: List[Dict[str, str]], message: Optional[str] = None) -> TrainerError:
    """TRAINER_REQUEST_INVALID naming each wrong field (``details.fields``)."""
    summary = message or '; '.join(f"{f['field'] or '(body)'}: {f['message']}" for f in fields[:8])
    return TrainerError('TRAINER_REQUEST_INVALID', f'invalid request: {summary}', {'fields': fields})


def _field_path(loc: Sequence[Any], ctx: Optional[Dict[str, Any]]) -> str:
    parts = [str(p) for p in loc]
    # A cross-field rule (schemas.RefinementError) names the field zod reports.
    if parts and parts[-1] == '__root__':
        parts = parts[:-1] + ([str(ctx['field'])] if ctx and 'field' in ctx else [])
    # A union tried member by member adds the member's type name to the path.
    return '.'.join(p for p in parts if not p[:1].isupper())


def field_problems(errors: List[Dict[str, Any]]) -> List[Dict[str, str]]:
    """Pydantic ``ValidationError.errors()`` → ``[{field, message}]`` with dotted paths, one per field."""
    out: List[Dict[str, str]] = []
    seen = set()
    fields = [_field_path(e.get('loc', ()), e.get('ctx')) for e in errors]
    for e, field in zip(errors, fields):
        # A union (message content: string or parts) reports every member; when a member got
        # further (errors below this field), the shallow "wrong type" of the others is noise.
        if str(e.get('type', '')).startswith('type_error') and any(f.startswith(field + '.') for f in fields):
            continue
        message = str(e.get('msg', 'invalid'))
        if e.get('type') == 'value_error.extra':
            message = f'unknown field "{field.rsplit(".", 1)[-1]}"'
        if field in seen:
            continue
        seen.add(field)
        out.append({'field': field, 'message': message})
    return out
