"""Comparing the pydantic models (schemas.py) with the JSON Schemas emitted from zod.

Two checks: ``compare_model`` walks a component and its model side by side
(property names, required fields, enums/consts, nullability, unknown keys
refused), and ``mutations`` derives probe instances from a valid example and
the schema (each property removed, replaced by values of every JSON type, by
bound and length edges, by each enum member and a non-member, an unknown key
added) so that the test can assert both sides accept exactly the same ones.
"""
from __future__ import annotations

import copy
import typing
from typing import Any, Dict, Iterator, List, Set, Tuple

from json_schema_check import Validator

PROBES: List[Any] = [None, True, 'x', '', 1.5, 7, -1, 0, [], {}]


def _literals(tp: Any) -> Set[Any]:
    return set(typing.get_args(tp)) if typing.get_origin(tp) is typing.Literal else set()


def _alternatives(v: Validator, schema: Dict[str, Any]) -> Tuple[bool, List[Dict[str, Any]]]:
    """(nullable, the non-null alternatives) of a property schema."""
    schema = v.resolve(schema)
    if isinstance(schema.get('type'), list):
        kinds = [k for k in schema['type'] if k != 'null']
        return 'null' in schema['type'], [{**schema, 'type': k} for k in kinds]
    alts = schema.get('anyOf') or schema.get('oneOf')
    if alts:
        resolved = [v.resolve(a) for a in alts]
        rest = [a for a in resolved if a.get('type') != 'null']
        nullable = len(rest) < len(resolved)
        if len(rest) == 1:
            return nullable, [rest[0]]
        return nullable, [{'oneOf': rest}] if 'oneOf' in schema else rest
    return False, [schema]


def _field_types(field: Any) -> List[Any]:
    """The concrete python types a pydantic v1 field can hold (union members flattened)."""
    if field.sub_fields and typing.get_origin(field.outer_type_) is typing.Union:
        return [t for sub in field.sub_fields for t in _field_types(sub)]
    return [field]


def compare_model(v: Validator, schema: Dict[str, Any], model: Any, path: str, problems: List[str]) -> None:
    schema = v.resolve(schema)
    props = schema.get('properties', {})
    fields = {f.alias: f for f in model.__fields__.values()}
    if set(props) != set(fields):
        problems.append(f'{path}: schema properties {sorted(props)} != model fields {sorted(fields)}')
    required = {n for n, f in fields.items() if f.required}
    if set(schema.get('required', [])) != required:
        problems.append(f'{path}: required {sorted(schema.get("required", []))} != model {sorted(required)}')
    forbids = model.__config__.extra == 'forbid'
    if (schema.get('additionalProperties') is False) != forbids:
        problems.append(f'{path}: additionalProperties {schema.get("additionalProperties")!r} but model extra={model.__config__.extra}')
    for name in sorted(set(props) & set(fields)):
        compare_field(v, props[name], fields[name], f'{path}.{name}', problems)


def compare_field(v: Validator, schema: Dict[str, Any], field: Any, path: str, problems: List[str]) -> None:
    nullable, alts = _alternatives(v, schema)
    py_nullable = field.allow_none and (field.required or bool(field.field_info.extra.get('nullable')))
    if nullable != py_nullable:
        problems.append(f'{path}: nullable {nullable} in the schema, {py_nullable} in the model')
    for alt in alts:
        compare_value(v, alt, _field_types(field), path, problems)


def compare_value(v: Validator, schema: Dict[str, Any], candidates: List[Any], path: str, problems: List[str]) -> None:
    """One non-null schema alternative against the field(s) that may hold it."""
    schema = v.resolve(schema)
    if 'oneOf' in schema:  # a discriminated union of objects: match members by their const discriminator
        for alt in (v.resolve(a) for a in schema['oneOf']):
            tag = alt['properties']['type'].get('const')
            models = [f.type_ for f in candidates if hasattr(f.type_, '__fields__')]
            models += [t for f in candidates for t in typing.get_args(f.type_) if hasattr(t, '__fields__')]
            match = [m for m in models if _literals(m.__fields__['type'].outer_type_) == {tag}]
            if len(match) != 1:
                problems.append(f'{path}: no model for the "{tag}" member')
            else:
                compare_model(v, alt, match[0], f'{path}<{tag}>', problems)
        return
    kind = schema.get('type')
    if kind == 'array':
        lists = [f for f in candidates if f.sub_fields and (typing.get_origin(f.outer_type_) in (list, List) or (
            isinstance(f.outer_type_, type) and issubclass(f.outer_type_, list)))]
        if len(lists) != 1:
            problems.append(f'{path}: an array in the schema, not a list in the model')
            return
        compare_value(v, schema['items'], _field_types(lists[0].sub_fields[0]), f'{path}[]', problems)
    elif kind == 'object' and 'properties' in schema:
        models = [f.type_ for f in candidates if hasattr(f.type_, '__fields__')]
        if len(models) != 1:
            problems.append(f'{path}: an object in the schema, no model')
        else:
            compare_model(v, schema, models[0], path, problems)
    elif 'enum' in schema or 'const' in schema:
        wanted = set(schema['enum']) if 'enum' in schema else {schema['const']}
        got = set().union(*(_literals(f.outer_type_) for f in candidates))
        if wanted != got:
            problems.append(f'{path}: values {sorted(wanted)} in the schema, {sorted(got)} in the model')


def _set(root: Any, path: Tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(root)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return out


def _drop(root: Any, path: Tuple[Any, ...]) -> Any:
    out = copy.deepcopy(root)
    target = out
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]
    return out


def _edges(s: Dict[str, Any], value: Any) -> List[Any]:
    out: List[Any] = []
    for key in ('minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum'):
        if key in s:
            out += [s[key] - 1, s[key], s[key] + 1, s[key] - 0.5, s[key] + 0.5]
    for key in ('minLength', 'maxLength'):
        if key in s and s[key] <= 2_000_000:
            out += ['a' * max(0, s[key] - 1), 'a' * s[key], 'a' * (s[key] + 1)]
    if 'pattern' in s:
        out += ['!not matching!', 'a' * 64, 'Aa0']
    out += list(s.get('enum', [])) + ['not-a-member']
    if 'const' in s:
        out += [s['const']]
    if isinstance(value, list) and value:
        if 'maxItems' in s and s['maxItems'] <= 5000:
            out.append([value[0]] * (s['maxItems'] + 1))
        if 'minItems' in s:
            out.append([value[0]] * s['minItems'])
    return out


def mutations(v: Validator, schema: Dict[str, Any], value: Any, root: Any, path: Tuple[Any, ...] = (),
              probe: bool = True) -> Iterator[Tuple[str, Any]]:
    """(label, probe instance) pairs around every node of ``value``."""
    schema = v.resolve(schema)
    label = '.'.join(map(str, path)) or '(root)'
    if path and probe:
        for p in PROBES + _edges(schema, value):
            yield f'{label} = {str(p)[:40]!r}', _set(root, path, p)
    for alt in schema.get('anyOf', []) + schema.get('oneOf', []):
        if v.is_valid(alt, value):
            for p in _edges(v.resolve(alt), value):
                yield f'{label} = {str(p)[:40]!r}', _set(root, path, p)
            yield from mutations(v, alt, value, root, path, probe=False)
    if isinstance(value, dict):
        yield f'{label} + unknown key', _set(root, path + ('zz_unknown',), 1) if path else {**root, 'zz_unknown': 1}
        props = schema.get('properties', {})
        for name in value:
            if name in props:
                yield f'{label} - {name}', _drop(root, path + (name,))
                yield from mutations(v, props[name], value[name], root, path + (name,))
    if isinstance(value, list) and value and 'items' in schema:
        yield from mutations(v, schema['items'], value[0], root, path + (0,))
