"""docs/method.md §6 loss against hand-computed values (loss.py, no model)."""
import math

import pytest
import torch
from builders import METHOD_ADVANTAGES, METHOD_R_LOC, METHOD_RATIOS, METHOD_WEIGHT, hand_loss

from differad_trainer.loss import LossSettings, SequenceInput, compute_grpo_loss, compute_token_terms


def method_batch(ratios, length=4, weight=METHOD_WEIGHT, dtype=torch.float32):
    """The docs/method.md §5.5 group: completion i has `length` tokens, every one with ratio ratios[i]."""
    out = []
    for a, r in zip(METHOD_ADVANTAGES, ratios):
        logp = torch.full((length,), -1.3, dtype=dtype, requires_grad=True)
        out.append(SequenceInput(logp=logp, sampling_logp=logp.detach() - math.log(r), advantage=a, weight=weight))
    return out


def test_the_method_group_weight_and_advantages_are_the_documented_ones():
    # docs/method.md §5: w = ½(exp(1 − mean R_loc) + sqrt(1 + p_miss)), p_miss = share with R_loc < τ = 0.3.
    mean = sum(METHOD_R_LOC) / 8
    p_miss = sum(r < 0.3 for r in METHOD_R_LOC) / 8
    assert 0.5 * (math.exp(1 - mean) + math.sqrt(1 + p_miss)) == pytest.approx(METHOD_WEIGHT, abs=1e-6)
    r = [f + l for f, l in zip([1, 1, 1, 0, 1, 1, 0, 1], METHOD_R_LOC)]
    mu = sum(r) / 8
    std = math.sqrt(sum((x - mu) ** 2 for x in r) / 7)
    assert [(x - mu) / (std + 1e-4) for x in r] == pytest.approx(METHOD_ADVANTAGES, abs=1e-6)


def test_ratio_one_gives_minus_w_times_the_mean_advantage():
    result = compute_grpo_loss(method_batch([1.0] * 8, dtype=torch.float64), LossSettings())
    # Σ A_i = −0.000001 (the advantages are centred), so L = −1.423427 · (−0.000001) / 8
    # (float64: in float32 the cancellation error of Σ is ~1e-7 itself).
    assert float(result.loss) == pytest.approx(1.779284e-7, abs=1e-12)
    assert result.clip_fraction == 0
    assert (result.sequences, result.tokens, result.kl) == (8, 32, None)


def test_the_clipped_case_by_hand():
    # min(rA, clip(r)A): .937476, .747010 (clipped), .101276, −1.209816 (clipped), .993115, −.16491,
    # −1.965951, .471673 → Σ = −.090127; L = −w·Σ/8 = 0.016036; 2 of 8 completions clipped.
    result = compute_grpo_loss(method_batch(METHOD_RATIOS), LossSettings())
    assert float(result.loss) == pytest.approx(0.016036, abs=1e-6)
    assert result.clip_fraction == 0.25
    expected, clip = hand_loss(METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT)
    assert float(result.loss) == pytest.approx(expected, abs=1e-6)
    assert clip == 0.25


def test_clipped_tokens_get_no_surrogate_gradient():
    batch = method_batch(METHOD_RATIOS, length=1, weight=1.0)
    compute_grpo_loss(batch, LossSettings()).loss.backward()
    grads = [float(s.logp.grad[0]) for s in batch]
    # ∂L/∂logπ = −w·r·A/N for unclipped tokens, 0 where the clipped branch is active (completions 1 and 3).
    for i, (a, r) in enumerate(zip(METHOD_ADVANTAGES, METHOD_RATIOS)):
        expected = 0.0 if i in (1, 3) else -r * a / 8
        assert grads[i] == pytest.approx(expected, abs=1e-6)


def test_per_token_ratios_and_both_normalizations_by_hand():
    # Completion 1: A = 1, w = 1, ratios [1.0, 1.5] → L_t = [−1, −1.2] (1.5 clipped to 1.2).
    # Completion 2: A = −1, w = 2, ratio [0.5] → min(−0.5, −0.8) = −0.8 → L_t = 1.6 (clipped).
    lp1, lp2 = torch.tensor([-0.7, -2.0]), torch.tensor([-1.1])
    batch = [
        SequenceInput(lp1, lp1 - torch.log(torch.tensor([1.0, 1.5])), advantage=1.0, weight=1.0),
        SequenceInput(lp2, lp2 - math.log(0.5), advantage=-1.0, weight=2.0),
    ]
    seq = compute_grpo_loss(batch, LossSettings(normalization='sequence'))
    tok = compute_grpo_loss(batch, LossSettings(normalization='token'))
    assert float(seq.loss) == pytest.approx((-1.1 + 1.6) / 2, abs=1e-6)  # mean of sequence means
    assert float(tok.loss) == pytest.approx((-1 - 1.2 + 1.6) / 3, abs=1e-6)  # mean over all tokens
    assert seq.clip_fraction == tok.clip_fraction == pytest.approx(2 / 3)
    assert (tok.sequences, tok.tokens) == (2, 3)


def test_the_difficulty_weight_scales_the_surrogate_but_not_the_kl():
    cur = torch.tensor([-1.0], requires_grad=True)
    ref = torch.tensor([-0.5])
    settings = LossSettings(beta=0.1)
    one = compute_token_terms(cur, cur.detach(), advantage=1.0, weight=1.0, settings=settings, ref_logp=ref)
    two = compute_token_terms(cur, cur.detach(), advantage=1.0, weight=2.0, settings=settings, ref_logp=ref)
    kl = math.exp(0.5) - 0.5 - 1  # k3 with ref − cur = 0.5: 0.148721
    assert float(one.kl[0]) == pytest.approx(kl, abs=1e-6)
    assert float(one.loss[0]) == pytest.approx(-1 + 0.1 * kl, abs=1e-6)
    assert float(two.loss[0]) == pytest.approx(-2 + 0.1 * kl, abs=1e-6)


def test_the_k3_kl_gradient_pulls_towards_the_reference():
    cur = torch.tensor([-1.0], requires_grad=True)
    terms = compute_token_terms(cur, cur.detach(), advantage=0.0, weight=1.0, settings=LossSettings(beta=0.1), ref_logp=torch.tensor([-0.5]))
    terms.loss.sum().backward()
    # d/dcur β(e^(ref−cur) − (ref−cur) − 1) = β(1 − e^(ref−cur)) = 0.1 · (1 − e^0.5)
    assert float(cur.grad[0]) == pytest.approx(0.1 * (1 - math.exp(0.5)), abs=1e-6)
    no_beta = compute_token_terms(cur, cur.detach(), 0.0, 1.0, LossSettings(beta=0.0), torch.tensor([-0.5]))
    assert float(no_beta.loss[0]) == 0.0 and no_beta.kl is not None  # β = 0: reported, not in the loss


def test_asymmetric_clip_bounds():
    lp = torch.tensor([-1.0])
    settings = LossSettings(clip_low=0.2, clip_high=0.28)
    up = compute_token_terms(lp, lp - math.log(1.25), advantage=1.0, weight=1.0, settings=settings)
    assert float(up.loss[0]) == pytest.approx(-1.25) and not bool(up.clipped[0])  # 1.25 < 1 + 0.28
    over = compute_token_terms(lp, lp - math.log(1.4), advantage=1.0, weight=1.0, settings=settings)
    assert float(over.loss[0]) == pytest.approx(-1.28) and bool(over.clipped[0])


def test_an_empty_batch_is_zero():
    result = compute_grpo_loss([], LossSettings())
    assert (float(result.loss), result.clip_fraction, result.sequences, result.tokens) == (0.0, 0.0, 0, 0)
