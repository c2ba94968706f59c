"""Packed completions (``completions[].packed``, packed-tokens.ts) and the health reply's ``features``.

A packed completion is the same numbers as the two arrays, bit for bit: once
validated it reaches the trainer as the arrays, so the replies are identical.
"""
import base64
import json
import math
import struct

import pytest
from builders import RUN, completion_ids, fb_request, group, method_group, pack, packed_request, starting_logprobs
from test_http_api import api  # noqa: F401 - the fixture
from test_schema_contract import document  # noqa: F401 - the fixture

from differad_trainer import schemas
from differad_trainer.app import parse_request


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_packed_micro_batch_gives_exactly_the_replies_of_its_arrays(api):  # noqa: F811
    api, service = api
    # Step 0 moves the weights off the reference, so step 1 has a KL to compare too.
    api.post('/v1/forward_backward', fb_request([method_group(service)], beta=0.1))
    api.post('/v1/optim_step', {'run': RUN, 'step': 0, 'lr': 0.005})
    ids = completion_ids(lengths=[3, 9, 1, 6])
    uneven = group(ids, starting_logprobs(service, ids), [0.7, -0.2, 1.3, -1.1], [1.25, 0.8, 1.0, 1.6], weight=0.9)
    arrays = fb_request([method_group(service, with_truncated=True), uneven], step=1, micro_batches=2, beta=0.1)
    packed = packed_request({**arrays, 'micro_batch': 1})
    assert all('token_ids' not in c and 'packed' in c for g in packed['groups'] for c in g['completions'])
    first = api.post('/v1/forward_backward', arrays)
    second = api.post('/v1/forward_backward', packed)
    assert first['kl'] is not None and first['kl'] != 0 and first['clip_fraction'] > 0
    assert second == {**first, 'micro_batch': 1}
    for key in ('loss', 'clip_fraction', 'kl', 'tokens', 'sequences', 'masked'):
        assert second[key] == first[key], key
    assert api.post('/v1/forward_backward', packed) == {**second, 'duplicate': True}
    assert api.post('/v1/optim_step', {'run': RUN, 'step': 1, 'lr': 0.005})['sequences'] == 2 * first['sequences']


def test_what_the_commands_get_is_the_arrays(api):  # noqa: F811
    _, service = api
    arrays = fb_request([method_group(service, with_truncated=True)])
    payload = parse_request(json.dumps(packed_request(arrays)).encode(), schemas.ForwardBackwardRequest)
    assert payload == arrays
    for got, want in zip(payload['groups'][0]['completions'], arrays['groups'][0]['completions']):
        assert 'packed' not in got and type(got['token_ids']) is list and all(type(t) is int for t in got['token_ids'])
        assert struct.pack(f'<{len(want["sampling_logprobs"])}d', *got['sampling_logprobs']) == \
            struct.pack(f'<{len(want["sampling_logprobs"])}d', *want['sampling_logprobs'])
    # Array completions pass through untouched.
    assert parse_request(json.dumps(arrays).encode(), schemas.ForwardBackwardRequest) == arrays


def test_packed_values_round_trip_bit_for_bit():
    ids = [0, 1, 151_643, 2**31, 2**32 - 1]
    lps = [-0.0, -5e-324, -1.7976931348623157e308, -1 / 3, 2.5]
    c = schemas.Completion.parse_obj({'text': 'a', 'packed': pack(ids, lps), 'advantage': 1, 'weight': 1, 'truncated': False})
    assert c.packed is None and c.token_ids == ids and all(type(t) is int for t in c.token_ids)
    assert struct.pack('<5d', *c.sampling_logprobs) == struct.pack('<5d', *lps)
    assert math.copysign(1.0, c.sampling_logprobs[0]) == -1.0


OK = pack([5, 6, 7], [-0.5, -1.0, -0.25])
IDS2 = b64(struct.pack('<2I', 5, 6))


@pytest.mark.parametrize('change, field, message', [
    # a. both forms
    ({'packed': OK, 'token_ids': [5, 6, 7]}, 'packed', 'give token_ids and sampling_logprobs, or packed, not both'),
    ({'packed': OK, 'sampling_logprobs': [-0.5, -1.0, -0.25]}, 'packed', 'give token_ids and sampling_logprobs, or packed, not both'),
    # b. neither
    ({}, 'token_ids', 'required (or packed)'),
    ({'sampling_logprobs': [-0.5]}, 'token_ids', 'required (or packed)'),
    ({'token_ids': [5]}, 'sampling_logprobs', 'required (or packed)'),
    # c. arrays of different lengths
    ({'token_ids': [5, 6], 'sampling_logprobs': [-0.5]}, 'sampling_logprobs', 'needs one log-prob per token id'),
    # d. token bytes
    ({'packed': {'token_ids': '', 'sampling_logprobs': ''}}, 'packed.token_ids',
     'needs 4 bytes (a little-endian uint32) per token id, at least one: got 0 bytes'),
    ({'packed': {'token_ids': b64(b'\x05\x00\x00\x00\x06'), 'sampling_logprobs': OK['sampling_logprobs']}}, 'packed.token_ids',
     'needs 4 bytes (a little-endian uint32) per token id, at least one: got 5 bytes'),
    # e. log-prob bytes
    ({'packed': {'token_ids': IDS2, 'sampling_logprobs': b64(struct.pack('<d', -0.5))}}, 'packed.sampling_logprobs',
     'needs 8 bytes (a little-endian float64) per token id: got 8 bytes for 2 token ids'),
    ({'packed': {'token_ids': IDS2, 'sampling_logprobs': b64(struct.pack('<2d', -0.5, -1) + b'\0')}}, 'packed.sampling_logprobs',
     'needs 8 bytes (a little-endian float64) per token id: got 17 bytes for 2 token ids'),
    # f. not finite
    ({'packed': pack([5, 6, 7], [-0.5, -1.0, math.nan])}, 'packed.sampling_logprobs', 'log-prob 2 is not finite'),
    ({'packed': pack([5, 6, 7], [-0.5, math.inf, math.nan])}, 'packed.sampling_logprobs', 'log-prob 1 is not finite'),
    ({'packed': pack([5, 6, 7], [-math.inf, -1.0, -0.25])}, 'packed.sampling_logprobs', 'log-prob 0 is not finite'),
])
def test_a_broken_completion_form_is_400_naming_the_field(api, change, field, message):  # noqa: F811
    api, service = api
    request = packed_request(fb_request([method_group(service)]))
    c = request['groups'][0]['completions'][3]
    for key in ('token_ids', 'sampling_logprobs', 'packed'):
        c.pop(key, None)
    c.update(change)
    reply = api.post('/v1/forward_backward', request, status=400)
    assert reply['error']['code'] == 'TRAINER_REQUEST_INVALID'
    assert reply['error']['details']['fields'] == [{'field': f'groups.0.completions.3.{field}', 'message': message}]
    assert service.health()['pending'] is None


def test_the_packed_object_is_strict(api):  # noqa: F811
    api, service = api
    request = packed_request(fb_request([method_group(service)]))
    c = request['groups'][0]['completions'][0]
    for packed, field in [({**c['packed'], 'dtype': 'f8'}, 'packed.dtype'), ({'token_ids': c['packed']['token_ids']}, 'packed.sampling_logprobs'),
                          ({**c['packed'], 'token_ids': 'not base64!'}, 'packed.token_ids'), (None, 'packed'), ([], 'packed')]:
        reply = api.post('/v1/forward_backward', {**request, 'groups': [{**request['groups'][0], 'completions': [{**c, 'packed': packed}]}]},
                         status=400)
        assert [f['field'] for f in reply['error']['details']['fields']] == [f'groups.0.completions.0.{field}']


def test_health_lists_the_features(api):  # noqa: F811
    api, service = api
    assert api.health()['features'] == ['packed_completions'] == schemas.FEATURES
    base = {k: v for k, v in service.health().items() if k != 'features'}
    assert schemas.HealthResponse.parse_obj(base).features is None  # older trainers send none
    assert schemas.HealthResponse.parse_obj({**base, 'features': []}).features == []
    for bad in ([''], ['x'] * 65, None, 'packed_completions', [1]):
        with pytest.raises(schemas.ValidationError):
            schemas.HealthResponse.parse_obj({**base, 'features': bad})
