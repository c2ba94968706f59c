"""A JSON Schema (2020-12) validator for the subset zod's ``toJSONSchema`` emits in docs/trainer-api.json.

``jsonschema`` is not installed on the CI image (Debian's python3 packages), so
this covers exactly the keywords the document uses and *refuses* any other
keyword: if the zod side starts emitting something new, the schema test fails
loudly instead of silently accepting everything.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

ANNOTATIONS = {'description', 'format', 'contentEncoding', 'title', 'default', 'examples', '$schema', 'id'}
ASSERTIONS = {
    'type', 'properties', 'required', 'additionalProperties', 'propertyNames', 'enum', 'const', 'pattern',
    'minLength', 'maxLength', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'minItems',
    'maxItems', 'items', 'anyOf', 'oneOf', '$ref',
}


class UnsupportedSchema(Exception):
    """The schema uses a keyword this checker does not implement."""


def _is_type(value: Any, kind: str) -> bool:
    if kind == 'null':
        return value is None
    if kind == 'boolean':
        return isinstance(value, bool)
    if kind == 'integer':
        return not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    if kind == 'number':
        return not isinstance(value, bool) and isinstance(value, (int, float))
    if kind == 'string':
        return isinstance(value, str)
    if kind == 'object':
        return isinstance(value, dict)
    if kind == 'array':
        return isinstance(value, list)
    raise UnsupportedSchema(f'type {kind!r}')


class Validator:
    """``errors(schema, value)`` → ``[(path, message)]``; ``$ref`` resolved against ``document``."""

    def __init__(self, document: Dict[str, Any]) -> None:
        self.document = document

    def resolve(self, schema: Dict[str, Any]) -> Dict[str, Any]:
        while '$ref' in schema:
            ref = schema['$ref']
            if not ref.startswith('#/'):
                raise UnsupportedSchema(f'$ref {ref}')
            target: Any = self.document
            for part in ref[2:].split('/'):
                target = target[part]
            schema = target
        return schema

    def is_valid(self, schema: Dict[str, Any], value: Any) -> bool:
        return not self.errors(schema, value)

    def errors(self, schema: Dict[str, Any], value: Any, path: str = '') -> List[Tuple[str, str]]:
        schema = self.resolve(schema)
        unknown = set(schema) - ANNOTATIONS - ASSERTIONS
        if unknown:
            raise UnsupportedSchema(f'{path or "(root)"}: keywords {sorted(unknown)}')
        out: List[Tuple[str, str]] = []
        if 'type' in schema:
            kinds = schema['type'] if isinstance(schema['type'], list) else [schema['type']]
            if not any(_is_type(value, k) for k in kinds):
                return [(path, f'expected {"/".join(kinds)}')]
        if 'const' in schema and value != schema['const']:
            out.append((path, f'expected {schema["const"]!r}'))
        if 'enum' in schema and value not in schema['enum']:
            out.append((path, f'expected one of {schema["enum"]}'))
        if 'anyOf' in schema:
            if all(self.errors(s, value, path) for s in schema['anyOf']):
                out.append((path, 'matches no anyOf alternative'))
        if 'oneOf' in schema:
            if sum(1 for s in schema['oneOf'] if not self.errors(s, value, path)) != 1:
                out.append((path, 'matches not exactly one oneOf alternative'))
        if isinstance(value, str):
            out += self._string(schema, value, path)
        if not isinstance(value, bool) and isinstance(value, (int, float)):
            out += self._number(schema, value, path)
        if isinstance(value, list):
            out += self._array(schema, value, path)
        if isinstance(value, dict):
            out += self._object(schema, value, path)
        return out

    def _string(self, s: Dict[str, Any], v: str, path: str) -> List[Tuple[str, str]]:
        out = []
        # JavaScript counts UTF-16 code units, as zod does.
        n = len(v.encode('utf-16-le', 'surrogatepass')) // 2
        if 'minLength' in s and n < s['minLength']:
            out.append((path, f'shorter than {s["minLength"]}'))
        if 'maxLength' in s and n > s['maxLength']:
            out.append((path, f'longer than {s["maxLength"]}'))
        if 'pattern' in s and not re.search(s['pattern'], v):
            out.append((path, f'does not match {s["pattern"]}'))
        return out

    def _number(self, s: Dict[str, Any], v: float, path: str) -> List[Tuple[str, str]]:
        out = []
        if 'minimum' in s and v < s['minimum']:
            out.append((path, f'< {s["minimum"]}'))
        if 'maximum' in s and v > s['maximum']:
            out.append((path, f'> {s["maximum"]}'))
        if 'exclusiveMinimum' in s and v <= s['exclusiveMinimum']:
            out.append((path, f'<= {s["exclusiveMinimum"]}'))
        if 'exclusiveMaximum' in s and v >= s['exclusiveMaximum']:
            out.append((path, f'>= {s["exclusiveMaximum"]}'))
        return out

    def _array(self, s: Dict[str, Any], v: list, path: str) -> List[Tuple[str, str]]:
        out = []
        if 'minItems' in s and len(v) < s['minItems']:
            out.append((path, f'fewer than {s["minItems"]} items'))
        if 'maxItems' in s and len(v) > s['maxItems']:
            out.append((path, f'more than {s["maxItems"]} items'))
        if 'items' in s:
            for i, item in enumerate(v):
                out += self.errors(s['items'], item, f'{path}.{i}' if path else str(i))
        return out

    def _object(self, s: Dict[str, Any], v: dict, path: str) -> List[Tuple[str, str]]:
        out = []
        props = s.get('properties', {})
        for name in s.get('required', []):
            if name not in v:
                out.append((f'{path}.{name}' if path else name, 'required'))
        for name, item in v.items():
            sub = f'{path}.{name}' if path else name
            if 'propertyNames' in s:
                out += self.errors(s['propertyNames'], name, sub)
            if name in props:
                out += self.errors(props[name], item, sub)
            elif s.get('additionalProperties') is False:
                out.append((sub, 'unknown property'))
            elif isinstance(s.get('additionalProperties'), dict):
                out += self.errors(s['additionalProperties'], item, sub)
        return out
