"""The trainer's commands on the tiny backend: loss through the model, masking, idempotency, accumulation."""
import copy

import pytest
import torch
from builders import (METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT, RUN, completion_ids, fb_request, group,
                      hand_loss, method_group, starting_logprobs, tiny_service)

from differad_trainer.errors import TrainerError


def weights(service):
    return {k: v.clone() for k, v in service.policy.model.state_dict().items()}


def same_weights(a, b, atol=0.0):
    return all(torch.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)


@pytest.mark.parametrize('normalization', ['sequence', 'token'])
def test_the_method_group_loss_through_the_model(tmp_path, normalization):
    service = tiny_service(tmp_path)
    reply = service.forward_backward(fb_request([method_group(service, with_truncated=True)], normalization=normalization))
    expected, clip = hand_loss(METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT)  # equal lengths: both normalizations agree
    assert expected == pytest.approx(0.016036, abs=1e-6)
    assert reply['loss'] == pytest.approx(expected, abs=1e-5)
    assert reply['clip_fraction'] == clip == 0.25
    assert reply['kl'] == pytest.approx(0.0, abs=1e-9)  # the reference is the starting policy
    assert reply['sequences'] == 8 and reply['tokens'] == 48
    assert reply['masked'] == {'truncated': 1, 'unscorable': 0}
    assert reply['prompt_tokens_match'] is True and reply['duplicate'] is False


def test_unequal_lengths_tell_the_normalizations_apart(tmp_path):
    service = tiny_service(tmp_path)
    ids = completion_ids(lengths=[2, 6])
    logps = starting_logprobs(service, ids)
    g = group(ids, logps, advantages=[1.0, -0.5], ratios=[1.0, 1.0], weight=2.0)
    seq = service.forward_backward(fb_request([g], normalization='sequence'))['loss']
    service.ledger.discard_pending()
    tok = service.forward_backward(fb_request([g], normalization='token'))['loss']
    # sequence: mean(−2·1, −2·(−0.5)) = −0.5; token: (2·(−2) + 6·1) / 8 = 0.25
    assert seq == pytest.approx(-0.5, abs=1e-5)
    assert tok == pytest.approx(0.25, abs=1e-5)


def test_truncated_completions_count_when_masking_is_off(tmp_path):
    service = tiny_service(tmp_path)
    reply = service.forward_backward(fb_request([method_group(service, with_truncated=True)], mask_truncated=False))
    # The ninth completion (advantage 5, ratio 1) now enters: Σ min terms = −.090127 + 5 over 9 completions.
    assert reply['sequences'] == 9 and reply['masked']['truncated'] == 0
    assert reply['loss'] == pytest.approx(-METHOD_WEIGHT * (-0.090127 + 5) / 9, abs=1e-5)


def test_beta_adds_the_kl_term_and_needs_a_reference(tmp_path):
    service = tiny_service(tmp_path)
    assert service.forward_backward(fb_request([method_group(service)], beta=0.5))['kl'] == pytest.approx(0.0, abs=1e-9)
    without = tiny_service(tmp_path, reference=False)
    with pytest.raises(TrainerError) as e:
        without.forward_backward(fb_request([method_group(without)], beta=0.5))
    assert e.value.code == 'TRAINER_BACKEND_UNSUPPORTED'
    assert without.forward_backward(fb_request([method_group(without)]))['kl'] is None


def test_a_step_applies_once_and_lowers_the_loss(tmp_path):
    service = tiny_service(tmp_path)
    first = service.forward_backward(fb_request([method_group(service)], micro_batches=2))
    assert service.forward_backward(fb_request([method_group(service)], micro_batches=2)) == {**first, 'duplicate': True}
    with pytest.raises(TrainerError) as e:
        service.optim_step({'run': RUN, 'step': 0, 'lr': 0.005})
    assert (e.value.code, e.value.details['missing']) == ('TRAINER_STEP_INCOMPLETE', [1])
    service.forward_backward(fb_request([method_group(service)], micro_batch=1, micro_batches=2))
    applied = service.optim_step({'run': RUN, 'step': 0, 'lr': 0.005})
    assert applied['applied'] and applied['weight_version'] == 1 and applied['sequences'] == 16 and applied['grad_norm'] > 0
    after = weights(service)
    again = service.optim_step({'run': RUN, 'step': 0, 'lr': 0.005})
    assert again == {**applied, 'applied': False, 'duplicate': True}
    assert service.forward_backward(fb_request([method_group(service)], micro_batches=2))['duplicate'] is True
    assert same_weights(after, weights(service))
    probe = service.forward_backward(fb_request([method_group(service)], step=1))
    assert probe['loss'] < first['loss']


def test_conflicts_and_run_mismatch(tmp_path):
    service = tiny_service(tmp_path)
    service.forward_backward(fb_request([method_group(service)], micro_batches=2))
    for request, code in [
        (fb_request([method_group(service)], run='another-run'), 'TRAINER_RUN_MISMATCH'),
        (fb_request([method_group(service)], step=1), 'TRAINER_STEP_CONFLICT'),
        (fb_request([method_group(service)], micro_batch=1, micro_batches=3), 'TRAINER_STEP_CONFLICT'),
    ]:
        with pytest.raises(TrainerError) as e:
            service.forward_backward(request)
        assert e.value.code == code
    assert service.health()['pending'] == {'step': 0, 'received': 1, 'expected': 2}


def test_two_micro_batches_equal_one_with_everything(tmp_path):
    a, b = tiny_service(tmp_path / 'a'), tiny_service(tmp_path / 'b')
    g = method_group(a)
    a.forward_backward(fb_request([g], micro_batch=0, micro_batches=2))
    a.forward_backward(fb_request([g], micro_batch=1, micro_batches=2))
    b.forward_backward(fb_request([g, g]))
    ga = a.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})['grad_norm']
    gb = b.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})['grad_norm']
    assert ga == pytest.approx(gb, rel=1e-5)
    assert same_weights(weights(a), weights(b), atol=1e-6)


def test_chunking_does_not_change_the_gradient(tmp_path):
    a, b = tiny_service(tmp_path / 'a', forward_chunk=3), tiny_service(tmp_path / 'b', forward_chunk=64)
    g = method_group(a)
    la = a.forward_backward(fb_request([g], normalization='token'))['loss']
    lb = b.forward_backward(fb_request([g], normalization='token'))['loss']
    assert la == pytest.approx(lb, abs=1e-6)
    grads_a = [p.grad.clone() for p in a.policy.model.parameters()]
    grads_b = [p.grad.clone() for p in b.policy.model.parameters()]
    assert all(torch.allclose(x, y, atol=1e-6) for x, y in zip(grads_a, grads_b))


def test_prompt_mismatch_is_an_error_unless_ignored(tmp_path):
    service = tiny_service(tmp_path)
    g = method_group(service)
    g['prompt_token_ids'] = g['prompt_token_ids'][:-1] + [12345]
    with pytest.raises(TrainerError) as e:
        service.forward_backward(fb_request([g]))
    assert e.value.code == 'TRAINER_PROMPT_MISMATCH' and e.value.details['groups'][0]['first_difference'] == len(g['prompt_token_ids']) - 1
    assert service.health()['pending'] is None and service.counters.prompt_mismatches == 1
    assert service.forward_backward({**fb_request([g]), 'prompt_mismatch': 'ignore'})['prompt_tokens_match'] is False
    unchecked = copy.deepcopy(g)
    unchecked['prompt_token_ids'] = None
    assert service.forward_backward(fb_request([unchecked], step=0, micro_batch=0))['duplicate'] is True
    service.optim_step({'run': RUN, 'step': 0, 'lr': 0.001})
    assert service.forward_backward(fb_request([unchecked], step=1))['prompt_tokens_match'] is None


def test_images_are_cached_by_hash(tmp_path):
    service = tiny_service(tmp_path)
    by_hash = method_group(service)
    for im in by_hash['images']:
        im.pop('data'), im.pop('media_type')
    with pytest.raises(TrainerError) as e:
        service.forward_backward(fb_request([by_hash]))
    assert e.value.code == 'TRAINER_IMAGE_UNKNOWN' and len(e.value.details['missing']) == 2
    service.forward_backward(fb_request([method_group(service)]))
    service.optim_step({'run': RUN, 'step': 0, 'lr': 0.001})
    assert service.forward_backward(fb_request([by_hash], step=1))['duplicate'] is False
    service.optim_step({'run': RUN, 'step': 1, 'lr': 0.001})
    corrupt = method_group(service)
    corrupt['images'][1]['sha256'] = corrupt['images'][0]['sha256']
    with pytest.raises(TrainerError) as e:
        service.forward_backward(fb_request([corrupt], step=2))
    assert e.value.details['fields'][0]['field'] == 'groups.0.images.1.data'


def test_a_failing_micro_batch_drops_the_step(tmp_path, monkeypatch):
    service = tiny_service(tmp_path)
    request = fb_request([method_group(service)], micro_batch=1, micro_batches=2)
    service.forward_backward({**request, 'micro_batch': 0})

    def explode(*args, **kwargs):
        raise RuntimeError('CUDA out of memory (simulated)')

    monkeypatch.setattr(service.policy, 'completion_logprobs', explode)
    with pytest.raises(TrainerError) as e:
        service.forward_backward(request)
    assert e.value.code == 'TRAINER_INTERNAL' and e.value.details['step_dropped'] is True
    assert service.health()['pending'] is None
    assert all(p.grad is None for p in service.policy.model.parameters())


def test_health_says_starting_until_the_model_is_loaded(tmp_path):
    from differad_trainer.config import TrainerConfig
    from differad_trainer.service import TrainerService

    service = TrainerService(TrainerConfig(backend='tiny'))
    assert service.health()['status'] == 'starting'
    service.load()
    assert service.health() == {'status': 'ok', 'api_version': 'v1', 'backend': 'tiny', 'model': 'tiny-causal-lm', 'world_size': 1,
                                'run': None, 'step': None, 'weight_version': 0, 'pending': None,
                                'features': ['packed_completions']}
