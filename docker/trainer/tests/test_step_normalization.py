"""docs/method.md §6.3: a step's gradient does not depend on how it is cut into micro-batches.

With ``loss.step_sequences`` / ``loss.step_tokens`` every completion's term is
divided by the whole step's total (masked completions counted, contributing 0),
so one micro-batch and four unequal ones accumulate the same gradient: the
research code's "mean over a sequence's tokens, then mean over all sequences
of the step".
"""
import copy

import pytest
import torch
from builders import RUN, completion_ids, fb_request, group, method_group, starting_logprobs, tiny_service

from differad_trainer.errors import TrainerError


def step_groups(service):
    """The §5.5 group with a truncated ninth completion, and a group of unequal lengths."""
    first = method_group(service, with_truncated=True)
    ids = completion_ids(lengths=[2, 7, 4])
    second = group(ids, starting_logprobs(service, ids), advantages=[1.2, -0.4, 0.3], ratios=[1.1, 0.7, 1.0], weight=0.8)
    return first, second


def part(g, lo, hi):
    out = copy.deepcopy(g)
    out['completions'] = out['completions'][lo:hi]
    return out


def totals(groups):
    completions = [c for g in groups for c in g['completions']]
    return {'step_sequences': len(completions), 'step_tokens': sum(len(c['token_ids']) for c in completions)}


def gradient(service):
    return [p.grad.clone() for p in service.policy.model.parameters()]


@pytest.mark.parametrize('normalization', ['sequence', 'token'])
def test_one_and_four_micro_batches_give_the_same_gradient(tmp_path, normalization):
    one, four = tiny_service(tmp_path / 'one'), tiny_service(tmp_path / 'four')
    first, second = step_groups(one)
    whole = totals([first, second])
    assert whole == {'step_sequences': 12, 'step_tokens': 9 * 6 + 13}
    reply = one.forward_backward(fb_request([first, second], normalization=normalization, **whole))
    assert reply['masked']['truncated'] == 1 and reply['sequences'] == 11
    # Unequal micro-batches; the truncated completion sits in the second one.
    batches = [[part(first, 0, 3)], [part(first, 3, 9)], [part(second, 0, 1)], [part(second, 1, 3)]]
    for i, groups in enumerate(batches):
        four.forward_backward(fb_request(groups, micro_batch=i, micro_batches=4, normalization=normalization, **whole))
    for a, b in zip(gradient(one), gradient(four)):
        assert torch.allclose(a, b, atol=1e-7, rtol=1e-5)
    assert one.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})['grad_norm'] == pytest.approx(
        four.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})['grad_norm'], rel=1e-5)


def test_the_step_mean_counts_masked_completions_as_zero(tmp_path):
    """Sequence normalization by the step: Σ_i mean_t L_i over the scored completions, / all 12 completions.
    The same step without the truncated completion and with step_sequences 11 has a gradient 12/11 as large."""
    with_masked, without = tiny_service(tmp_path / 'a'), tiny_service(tmp_path / 'b')
    first, second = step_groups(with_masked)
    with_masked.forward_backward(fb_request([first, second], step_sequences=12))
    without.forward_backward(fb_request([part(first, 0, 8), second], step_sequences=11))
    for a, b in zip(gradient(with_masked), gradient(without)):
        assert torch.allclose(a * 12 / 11, b, atol=1e-7, rtol=1e-5)


def test_the_reply_loss_stays_the_micro_batch_mean(tmp_path):
    a, b = tiny_service(tmp_path / 'a'), tiny_service(tmp_path / 'b')
    first, second = step_groups(a)
    by_step = a.forward_backward(fb_request([first], step_sequences=40))['loss']
    own = b.forward_backward(fb_request([first]))['loss']
    assert by_step == pytest.approx(own, abs=1e-7)


def test_step_totals_are_checked(tmp_path):
    service = tiny_service(tmp_path)
    first, second = step_groups(service)
    with pytest.raises(TrainerError) as e:
        service.forward_backward(fb_request([first], micro_batches=2, step_sequences=8))  # the micro-batch alone has 9
    assert e.value.code == 'TRAINER_REQUEST_INVALID' and e.value.details['fields'][0]['field'] == 'loss.step_sequences'
    service.forward_backward(fb_request([first], micro_batches=2, step_sequences=12))
    with pytest.raises(TrainerError) as e:
        service.forward_backward(fb_request([second], micro_batch=1, micro_batches=2, step_sequences=13))
    assert e.value.code == 'TRAINER_STEP_CONFLICT'
    assert service.health()['pending'] == {'step': 0, 'received': 1, 'expected': 2}
