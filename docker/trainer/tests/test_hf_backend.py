"""The hf backend's plumbing (policy/hf.py, the plain-PyTorch engine) against a fake transformers module.

What it cannot show: that real Qwen-VL processors/models behave like the fake;
docker/trainer/gpu-check.sh runs the real ones on a GPU.
"""
import math
import os

import fake_transformers
import pytest
import torch
from builders import METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT, RUN, completion_ids, fb_request, hand_loss

from differad_trainer.config import TrainerConfig
from differad_trainer.errors import TrainerError
from differad_trainer.service import TrainerService

MESSAGES = [{'role': 'system', 'content': 'Answer with a box.'}, {'role': 'user', 'content': [{'type': 'text', 'text': 'Where is the scratch?'}]}]


def hf_service(tmp_path, **overrides):
    settings = {'dtype': 'fp32', 'reference': True, 'forward_chunk': 3, **overrides}
    config = TrainerConfig(backend='hf', model='fake/vlm', checkpoint_dir=str(tmp_path / 'ckpt'), weights_dir=str(tmp_path / 'weights'), **settings)
    service = TrainerService(config)
    service.load()
    return service


def hf_group(service, ratios=METHOD_RATIOS):
    policy = service.policy
    prompt = policy.encode_prompt(MESSAGES, [])
    ids = completion_ids(8)
    with torch.no_grad():
        logps = [lp.tolist() for lp in policy.completion_logprobs(prompt, ids, 1.0)]
    return {'images': [], 'messages': MESSAGES, 'prompt_token_ids': prompt.ids, 'completions': [
        {'text': 't', 'token_ids': ids[i], 'sampling_logprobs': [lp - math.log(r) for lp in logps[i]],
         'advantage': a, 'weight': METHOD_WEIGHT, 'truncated': False}
        for i, (a, r) in enumerate(zip(METHOD_ADVANTAGES, ratios))]}


def test_the_hf_backend_needs_transformers(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__('sys').modules, 'transformers', None)
    with pytest.raises(RuntimeError, match='needs transformers'):
        hf_service(tmp_path)


def test_vision_frozen_checkpointing_on_and_the_loss_is_method_section_6(tmp_path, monkeypatch):
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path)
    model = fake_transformers.AutoModelForImageTextToText.loaded[0]
    assert not any(p.requires_grad for p in model.model.visual.parameters())
    assert all(p.requires_grad for n, p in model.named_parameters() if 'visual' not in n)
    assert model.checkpointing == {'use_reentrant': False} and model.config.use_cache is False
    assert service.policy.processor.kwargs == {'min_pixels': 3136, 'max_pixels': 401_408}
    reply = service.forward_backward(fb_request([hf_group(service)]))
    expected, clip = hand_loss(METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT)
    assert reply['loss'] == pytest.approx(expected, abs=1e-5) and reply['clip_fraction'] == clip
    assert reply['prompt_tokens_match'] is True and reply['kl'] == pytest.approx(0.0, abs=1e-9)
    assert model.calls[-1] == 7  # logits_to_keep: 6 completion tokens + the last prompt position
    applied = service.optim_step({'run': RUN, 'step': 0, 'lr': 0.01, 'max_grad_norm': 0.5})
    assert applied['grad_norm'] > 0 and applied['weight_version'] == 1


def test_logits_for_every_position_give_the_same_logprobs(tmp_path, monkeypatch):
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path)
    prompt = service.policy.encode_prompt(MESSAGES, [])
    ids = completion_ids(3, lengths=[2, 5, 3])
    with torch.no_grad():
        kept = service.policy.completion_logprobs(prompt, ids, 0.9)
        monkeypatch.setattr(fake_transformers.FakeVlm, 'supports_logits_to_keep', False)
        full = service.policy.completion_logprobs(prompt, ids, 0.9)
    assert [k.shape[0] for k in kept] == [2, 5, 3]
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(kept, full))


def test_checkpoint_and_disk_weights_on_the_plain_pytorch_engine(tmp_path, monkeypatch):
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path)
    g = hf_group(service)
    service.forward_backward(fb_request([g]))
    service.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})
    saved = service.save_checkpoint({'run': RUN, 'step': 0})
    before = service.forward_backward(fb_request([g], step=1))['loss']
    service.optim_step({'run': RUN, 'step': 1, 'lr': 0.01})
    service.load_checkpoint({'path': saved['path']})
    assert service.forward_backward(fb_request([g], step=1))['loss'] == pytest.approx(before, abs=1e-7)
    sent = service.send_weights({'version': 1, 'backend': 'disk'})
    assert sorted(os.listdir(sent['path'])) == ['config.json', 'preprocessor_config.json', 'pytorch_model.bin']
    with pytest.raises(TrainerError) as e:
        service.send_weights({'version': 1, 'backend': 'lora'})
    assert e.value.code == 'TRAINER_BACKEND_UNSUPPORTED'


def test_a_bf16_model_learns_at_lr_1e_6_through_fp32_master_weights(tmp_path, monkeypatch):
    """AdamW updates a weight in its own dtype, and bf16 has 8 significant bits: an lr-1e-6 update of
    a bf16 weight rounds away, nothing is learned. The plain-PyTorch engine steps fp32 masters: every
    weight with a gradient moves (by ≈ lr: Adam's first step is lr·sign(g)), the bf16 model holds the
    masters rounded (updates accumulate in the masters until they show), and the masters survive a
    checkpoint round trip."""
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path, dtype='bf16')
    model = fake_transformers.AutoModelForImageTextToText.loaded[0]
    assert model.lm_head.weight.dtype == torch.bfloat16
    engine = service.policy.engine
    held = [p for g in engine.optimizer.param_groups for p in g['params']]  # the weights the optimizer steps
    before = [p.detach().clone() for p in held]
    service.forward_backward(fb_request([hf_group(service)]))
    trainable = [p for p in model.parameters() if p.requires_grad]
    moving = [p.grad != 0 for p in trainable]
    service.optim_step({'run': RUN, 'step': 0, 'lr': 1e-6})
    delta = [(after.detach().float() - b.float()).abs() for after, b in zip(held, before)]
    assert all(bool((d[m] > 0).all()) for d, m in zip(delta, moving)), 'an lr-1e-6 update was rounded away'
    assert all(float(d.max()) <= 1.1e-6 for d in delta)  # ≈ lr, give or take fp32 rounding
    assert all(torch.equal(p.detach(), m.detach().to(torch.bfloat16)) for p, m in zip(trainable, held))
    saved = service.save_checkpoint({'run': RUN, 'step': 0})
    masters = [m.detach().clone() for m in held]
    service.forward_backward(fb_request([hf_group(service)], step=1))
    service.optim_step({'run': RUN, 'step': 1, 'lr': 1e-6})
    assert not all(torch.equal(a, b) for a, b in zip(masters, held))
    service.load_checkpoint({'path': saved['path']})
    assert all(torch.equal(a, b) for a, b in zip(masters, held))
