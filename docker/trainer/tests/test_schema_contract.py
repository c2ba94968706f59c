"""The pydantic models and routes agree with docs/trainer-api.json, emitted from the zod schemas.

The zod schemas in packages/trainer-client/src/api/ are the source of truth;
this test fails whenever they and differad_trainer/schemas.py drift apart.
"""
import base64
import copy
import json
import math
import re
import struct
from pathlib import Path

import pytest
from json_schema_check import Validator
from schema_walk import compare_model, mutations

from differad_trainer import schemas
from differad_trainer.app import POST_ROUTES
from differad_trainer.errors import ERROR_STATUS

REPO = Path(__file__).resolve().parents[3]
DOCUMENT = REPO / 'docs' / 'trainer-api.json'
REGENERATE = 'npx tsx packages/trainer-client/scripts/emit-openapi.ts'
SHA = 'ab' * 32


@pytest.fixture(scope='module')
def document():
    if not DOCUMENT.is_file():
        pytest.fail(f'{DOCUMENT} is missing: it is generated from the zod schemas; regenerate it from the repository root with `{REGENERATE}`')
    return json.loads(DOCUMENT.read_text())


def completion_form_holds(c):
    """completionFormProblem of packed-tokens.ts: the arrays (one log-prob per token id), or packed (4 bytes per id,
    at least one; 8 bytes per id; every log-prob finite), not both."""
    if 'packed' in c:
        if 'token_ids' in c or 'sampling_logprobs' in c:
            return False
        ids, lps = (base64.b64decode(c['packed'][k]) for k in ('token_ids', 'sampling_logprobs'))
        if not ids or len(ids) % 4 or len(lps) != 2 * len(ids):
            return False
        return all(math.isfinite(x) for x in struct.unpack(f'<{len(lps) // 8}d', lps))
    return 'token_ids' in c and 'sampling_logprobs' in c and len(c['sampling_logprobs']) == len(c['token_ids'])


def refinements_hold(name, v):
    """The zod refine()s JSON Schema cannot express (each named in a description: "Also required")."""
    if name == 'ForwardBackwardRequest':
        if v['micro_batch'] >= v['micro_batches']:
            return False
        for g in v['groups']:
            parts = [p for m in g['messages'] if isinstance(m['content'], list) for p in m['content']]
            if any(p['type'] == 'image' and p['image'] >= len(g['images']) for p in parts):
                return False
            if not all(completion_form_holds(c) for c in g['completions']):
                return False
    if name == 'LoadCheckpointRequest':
        return ('path' in v) != ('run' in v and 'step' in v)
    if name == 'WeightsManifestResponse':
        return len(v['names']) == len(v['dtypes']) == len(v['shapes'])
    if name == 'OptimStepResponse':
        return v['applied'] != v['duplicate']
    return True


KNOWN_REFINEMENTS = ['len(sampling_logprobs) == len(token_ids)', "every image part's index < len(images)",
                     'micro_batch < micro_batches', 'either path, or both run and step',
                     'names, dtypes and shapes have the same length',
                     # a completion's form (packed-tokens.ts completionFormProblem), one rule per "; "-clause
                     'packed and the arrays not both', 'without packed, token_ids',
                     'with packed, 4 bytes per token id and at least one']

EXAMPLES = {
    'ForwardBackwardRequest': {
        'run': 'run-1', 'step': 3, 'micro_batch': 0, 'micro_batches': 2, 'prompt_mismatch': 'error',
        'loss': {'clip_low': 0.2, 'clip_high': 0.28, 'beta': 0.0, 'normalization': 'sequence', 'mask_truncated': True, 'temperature': 0.9},
        'groups': [{
            'pair_id': 'p1', 'images': [{'sha256': SHA, 'data': 'aGVsbG8=', 'media_type': 'image/png'}],
            'messages': [{'role': 'system', 'content': 'be brief'},
                         {'role': 'user', 'content': [{'type': 'image', 'image': 0}, {'type': 'text', 'text': 'where?'}]}],
            'prompt_token_ids': [1, 2],
            'completions': [{'text': 'a', 'token_ids': [5, 6], 'sampling_logprobs': [-0.5, -1.0], 'advantage': 0.5, 'weight': 1.2, 'truncated': False}],
        }],
    },
    'ForwardBackwardResponse': {'run': 'run-1', 'step': 3, 'micro_batch': 0, 'duplicate': False, 'loss': 0.01, 'clip_fraction': 0.25,
                                'kl': 0.0, 'sequences': 8, 'tokens': 48, 'masked': {'truncated': 1, 'unscorable': 0}, 'prompt_tokens_match': True},
    'HealthResponse': {'status': 'ok', 'api_version': 'v1', 'backend': 'tiny', 'model': 'm', 'world_size': 1, 'run': 'run-1', 'step': 2,
                       'weight_version': 3, 'pending': {'step': 3, 'received': 1, 'expected': 2}, 'features': ['packed_completions']},
    'OptimStepRequest': {'run': 'run-1', 'step': 3, 'lr': 1e-6, 'max_grad_norm': 1.0},
    'OptimStepResponse': {'run': 'run-1', 'step': 3, 'applied': True, 'duplicate': False, 'grad_norm': 0.5, 'weight_version': 4,
                          'micro_batches': 2, 'sequences': 16},
    'SaveCheckpointRequest': {'run': 'run-1', 'step': 3, 'path': 'a.pt'},
    'LoadCheckpointRequest': {'path': 'a.pt'},
    'CheckpointResponse': {'run': 'run-1', 'step': 3, 'weight_version': 4, 'path': '/ckpt/a.pt'},
    'SendWeightsRequest': {'version': 4, 'backend': 'disk', 'path': 'v4', 'options': {'packed': True}},
    'SendWeightsResponse': {'backend': 'disk', 'version': 4, 'path': '/w/v4', 'bytes': 10},
    'WeightsManifestRequest': {'version': 4},
    'WeightsManifestResponse': {'version': 4, 'names': ['a.weight', 'b'], 'dtypes': ['bfloat16', 'float32'], 'shapes': [[2, 3], []]},
    'TrainerErrorBody': {'error': {'code': 'TRAINER_REQUEST_INVALID', 'message': 'm', 'details': {'fields': [{'field': 'lr', 'message': 'x'}], 'missing': [1]}}},
}

#: The forward_backward example with its completion packed (3 token ids), for the probes of ``packed``.
PACKED_EXAMPLE = copy.deepcopy(EXAMPLES['ForwardBackwardRequest'])
PACKED_EXAMPLE['groups'][0]['completions'][0] = {
    'text': 'a', 'advantage': 0.5, 'weight': 1.2, 'truncated': False,
    'packed': {'token_ids': base64.b64encode(struct.pack('<3I', 5, 6, 4_294_967_295)).decode(),
               'sampling_logprobs': base64.b64encode(struct.pack('<3d', -0.5, -1.0, -5e-324)).decode()}}
CASES = {**{name: (name, example) for name, example in EXAMPLES.items()}, 'ForwardBackwardRequest(packed)': ('ForwardBackwardRequest', PACKED_EXAMPLE)}


def accepts(model, value):
    try:
        model.parse_obj(copy.deepcopy(value))
        return True
    except schemas.ValidationError:
        return False


def test_the_document_names_the_same_routes(document):
    served = {(path, 'post'): (schemas.COMPONENTS[[k for k, m in schemas.COMPONENTS.items() if m is req][0]],
                               [k for k, m in schemas.COMPONENTS.items() if m is res][0]) for path, _, req, res in POST_ROUTES}
    for path, item in document['paths'].items():
        for method, op in item.items():
            if path == '/v1/health':
                assert method == 'get' and op['responses']['200']['content']['application/json']['schema']['$ref'].endswith('/HealthResponse')
                continue
            if path == '/metrics':
                assert method == 'get' and 'text/plain' in op['responses']['200']['content']
                continue
            assert (path, method) in served, f'{method.upper()} {path} is in the document but not served'
            request = op['requestBody']['content']['application/json']['schema']['$ref'].rsplit('/', 1)[1]
            response = op['responses']['200']['content']['application/json']['schema']['$ref'].rsplit('/', 1)[1]
            assert schemas.COMPONENTS[request] is served[(path, method)][0] and response == served[(path, method)][1], path
    assert {p for p, _ in served} | {'/v1/health', '/metrics'} == set(document['paths'])


def test_the_error_codes_and_statuses_are_the_same(document):
    listed = dict((code, int(status)) for code, status in re.findall(r'(TRAINER_[A-Z_]+) (\d{3})', document['info']['description']))
    assert listed == ERROR_STATUS


def test_every_component_has_a_model(document):
    assert set(document['components']['schemas']) == set(schemas.COMPONENTS)


@pytest.mark.parametrize('name', sorted(schemas.COMPONENTS))
def test_model_fields_required_and_enums_match_the_schema(document, name):
    v = Validator(document)
    problems = []
    compare_model(v, document['components']['schemas'][name], schemas.COMPONENTS[name], name, problems)
    assert problems == []


def _descriptions(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'description' and isinstance(value, str):
                yield value
            else:
                yield from _descriptions(value)
    elif isinstance(node, list):
        for value in node:
            yield from _descriptions(value)


def test_the_refinements_beyond_json_schema_are_known(document):
    # "… Also required (beyond JSON Schema)[, checked in this order]: RULE[; RULE…][, reported as field "x"]."
    rules = []
    for text in _descriptions(document['components']):
        if 'Also required' in text:
            listed = text.split('Also required', 1)[1].split(': ', 1)[1]
            rules += re.split(r'; ', re.sub(r'(, reported as field "[^"]*")?\.?$', '', listed))
    for rule in rules:
        assert any(k in rule for k in KNOWN_REFINEMENTS), f'a new zod refinement: {rule!r}; implement it in schemas.py and refinements_hold'
    for known in KNOWN_REFINEMENTS:
        assert any(known in rule for rule in rules), f'{known!r} is no longer in the document: update KNOWN_REFINEMENTS and refinements_hold'


@pytest.mark.parametrize('case', sorted(CASES))
def test_models_accept_exactly_what_the_schema_accepts(document, case):
    name, example = CASES[case]
    v = Validator(document)
    schema = document['components']['schemas'][name]
    model = schemas.COMPONENTS[name]
    assert v.errors(schema, example) == [] and accepts(model, example)
    disagreements = []
    count = 0
    for label, probe in mutations(v, schema, example, example):
        count += 1
        expected = v.is_valid(schema, probe) and refinements_hold(name, probe)
        if accepts(model, probe) != expected:
            disagreements.append(f'{label}: schema says {"valid" if expected else "invalid"}')
    assert disagreements == [], f'{len(disagreements)} of {count} probes disagree'
    assert count > 10


def test_load_by_run_and_step_is_the_other_form(document):
    v = Validator(document)
    schema = document['components']['schemas']['LoadCheckpointRequest']
    for value in ({'run': 'r', 'step': 1}, {'path': 'a', 'run': 'r'}, {'path': 'a', 'run': 'r', 'step': 1}, {}):
        assert accepts(schemas.LoadCheckpointRequest, value) == (v.is_valid(schema, value) and refinements_hold('LoadCheckpointRequest', value))
