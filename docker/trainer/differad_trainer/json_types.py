"""JSON value types for the API models: zod's rules in pydantic 1.x terms.

zod is strict where pydantic 1.x coerces: a number is never a string or a bool,
an integer may be ``1.0`` (JSON Schema says so) but never ``1.5``, an object is
never ``[]``, an optional field is absent rather than null. Models use the
pydantic 1.x API: Debian ships pydantic 1.10, and pydantic 2 (in the image)
ships the same API as ``pydantic.v1``.
"""
from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Dict, Optional

try:  # pydantic 2 keeps the 1.x API under pydantic.v1
    from pydantic.v1 import BaseModel, ValidationError, constr, root_validator
    from pydantic.v1.errors import PydanticValueError
except ImportError:  # pragma: no cover - depends on the installed pydantic
    from pydantic import BaseModel, ValidationError, constr, root_validator  # type: ignore
    from pydantic.errors import PydanticValueError  # type: ignore

__all__ = ['BaseModel', 'ValidationError', 'root_validator', 'constr']

MAX_SAFE_INTEGER = 9_007_199_254_740_991
MAX_INT32 = 2_147_483_647


class RefinementError(PydanticValueError):
    """A cross-field rule (zod ``refine``) broken; ``field`` is the path zod reports."""

    code = 'refinement'
    msg_template = '{message}'


class _Number(float):
    """A finite JSON number (int or float, never a bool or string), with bounds."""

    ge: Optional[float] = None
    gt: Optional[float] = None
    le: Optional[float] = None

    @classmethod
    def __get_validators__(cls):
        yield cls._validate

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(type='number')

    @classmethod
    def _validate(cls, v: Any) -> float:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise TypeError('must be a number')
        value = float(v)
        if not math.isfinite(value):
            raise ValueError('must be a finite number')
        if cls.ge is not None and value < cls.ge:
            raise ValueError(f'must be >= {cls.ge}')
        if cls.gt is not None and value <= cls.gt:
            raise ValueError(f'must be > {cls.gt}')
        if cls.le is not None and value > cls.le:
            raise ValueError(f'must be <= {cls.le}')
        return value


def number(ge: Optional[float] = None, gt: Optional[float] = None, le: Optional[float] = None) -> type:
    """A bounded finite number type (zod ``z.number().min().max()``)."""
    return type('Number', (_Number,), {'ge': ge, 'gt': gt, 'le': le})


class _Base64(str):
    """Standard base64 with padding (zod ``z.base64()``), checked without a regex over megabytes."""

    @classmethod
    def __get_validators__(cls):
        yield cls._validate

    @classmethod
    def _validate(cls, v: Any) -> str:
        if not isinstance(v, str):
            raise TypeError('must be a string')
        if len(v) % 4 != 0:
            raise ValueError('must be base64')
        try:
            base64.b64decode(v, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError('must be base64') from None
        return v


class _Integer(int):
    """A JSON integer (an int, or a float with no fraction as JSON Schema allows; never a bool)."""

    ge: int = 0
    le: int = MAX_SAFE_INTEGER

    @classmethod
    def __get_validators__(cls):
        yield cls._validate

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(type='integer', minimum=cls.ge, maximum=cls.le)

    @classmethod
    def _validate(cls, v: Any) -> int:
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise TypeError('must be an integer')
        value = int(v)
        if value < cls.ge:
            raise ValueError(f'must be >= {cls.ge}')
        if value > cls.le:
            raise ValueError(f'must be <= {cls.le}')
        return value


def integer(ge: int = 0, le: int = MAX_SAFE_INTEGER) -> type:
    """A JSON integer in [ge, le] (zod ``z.number().int().min().max()``)."""
    return type('Integer', (_Integer,), {'ge': ge, 'le': le})


Number = number()
RunId = constr(strict=True, min_length=1, max_length=128, regex=r'^[A-Za-z0-9][A-Za-z0-9._-]*$')
Step = integer(0, MAX_INT32)
WeightVersion = integer(0, MAX_INT32)
Count = integer(0)
TokenId = integer(0)
CheckpointPath = constr(strict=True, min_length=1, max_length=4096)


class JsonObject(dict):
    """A JSON object with any values (zod ``z.record(z.string(), z.unknown())``); no coercion."""

    @classmethod
    def __get_validators__(cls):
        yield cls._validate

    @classmethod
    def _validate(cls, v: Any) -> Dict[str, Any]:
        if not isinstance(v, dict):
            raise TypeError('must be an object')
        return v


class StrictModel(BaseModel):
    """zod ``strictObject``: unknown keys are errors, and an optional field may be absent but not
    null unless declared ``Field(None, nullable=True)`` (zod ``.nullable().optional()``)."""

    class Config:
        extra = 'forbid'

    @classmethod
    def validate(cls, value: Any) -> 'StrictModel':
        # pydantic 1.x would turn '' or [] into {} (dict(value)); JSON objects only.
        if not isinstance(value, (dict, cls)):
            raise TypeError('must be an object')
        return super().validate(value)

    @root_validator(pre=True)
    def _absent_is_not_null(cls, values: Dict[str, Any]) -> Dict[str, Any]:
        for name, f in cls.__fields__.items():
            if not f.required and values.get(f.alias, 0) is None and not f.field_info.extra.get('nullable'):
                raise RefinementError(field=f.alias, message='may be absent but not null')
        return values
