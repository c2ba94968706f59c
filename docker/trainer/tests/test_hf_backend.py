"""The hf backend's plumbing (policy/hf.py, the plain-PyTorch engine) against a fake transformers module.

What it cannot show: that real Qwen-VL processors/models behave like the fake;
docker/trainer/gpu-check.sh runs the real ones on a GPU.
"""
import math
import os

import fake_transformers
import pytest
import torch
from builders import METHOD_ADVANTAGES, METHOD_RATIOS, METHOD_WEIGHT, RUN, completion_ids, fb_request, hand_loss, image

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
    model = service.policy.engine.model
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
    model = service.policy.engine.model
    assert model.lm_head.weight.dtype == torch.bfloat16
    engine = service.policy.engine
    held = [p for g in engine.optimizer.param_groups for p in g['params']]  # the weights the optimizer steps
    before = [p.detach().clone() for p in held]
    service.forward_backward(fb_request([hf_group(service)]))
    trainable = [p for p in model.parameters() if p.requires_grad]
    moving = [p.grad.float().abs() > 1e-6 for p in trainable]  # |g| ≫ Adam's ε: a step of ≈ lr
    assert sum(int(m.sum()) for m in moving) > 100
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


IMAGE_MESSAGES = [{'role': 'system', 'content': 'Answer with a box.'}, {'role': 'user', 'content': [
    {'type': 'image', 'image': 0}, {'type': 'image', 'image': 1}, {'type': 'text', 'text': 'Where is the scratch?'}]}]


def test_processor_outputs_per_token_are_extended_over_the_completions(tmp_path, monkeypatch):
    """transformers >= 5.3 processors return mm_token_type_ids [1, P]; the model needs [n, P + L] next to
    input_ids (get_rope_index indexes it per row with the attention mask). Completion tokens are text (0),
    images are repeated per row: batched log-probs of unequal completions equal each completion scored
    alone against a hand-built full row."""
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path)
    policy = service.policy
    prompt = policy.encode_prompt(IMAGE_MESSAGES, [b'reference', b'target'])
    assert tuple(prompt.inputs['mm_token_type_ids'].shape) == (1, len(prompt.ids))
    assert int(prompt.inputs['mm_token_type_ids'].sum()) == 2 * fake_transformers.IMAGE_TOKENS
    ids = completion_ids(3, lengths=[2, 5, 3])
    model = service.policy.engine.model
    with torch.no_grad():
        batched = policy.completion_logprobs(prompt, ids, 1.0)
        alone = [policy.completion_logprobs(prompt, [c], 1.0)[0] for c in ids]
        for c, got, single in zip(ids, batched, alone):
            row = torch.tensor([prompt.ids + c])
            logits = model(input_ids=row, attention_mask=torch.ones_like(row), use_cache=False,
                           mm_token_type_ids=(row == fake_transformers.IMAGE_TOKEN_ID).long(),
                           pixel_values=prompt.inputs['pixel_values'], image_grid_thw=prompt.inputs['image_grid_thw']).logits
            want = torch.log_softmax(logits[0, len(prompt.ids) - 1:-1].float(), -1).gather(-1, torch.tensor(c).unsqueeze(-1)).squeeze(-1)
            assert torch.allclose(got, want, atol=1e-5) and torch.allclose(single, want, atol=1e-5)
        # Dropping mm_token_type_ids would fall back to 1-D positions: a different answer.
        row = torch.tensor([prompt.ids + ids[0]])
        flat = model(input_ids=row, attention_mask=torch.ones_like(row), use_cache=False,
                     pixel_values=prompt.inputs['pixel_values'], image_grid_thw=prompt.inputs['image_grid_thw']).logits
        assert not torch.allclose(torch.log_softmax(flat[0, len(prompt.ids) - 1:-1].float(), -1).gather(-1, torch.tensor(ids[0]).unsqueeze(-1)).squeeze(-1),
                                  batched[0], atol=1e-3)


def test_batch_prompt_inputs_shapes_and_unknown_per_token_outputs():
    from differad_trainer.policy.hf import batch_prompt_inputs

    inputs = {'mm_token_type_ids': torch.tensor([[0, 1, 1, 0]]), 'pixel_values': torch.ones(2, 3),
              'image_grid_thw': torch.tensor([[1, 2, 2]]), 'flag': True}
    out = batch_prompt_inputs(inputs, prompt_len=4, rows=3, row_len=7)
    assert out['mm_token_type_ids'].tolist() == [[0, 1, 1, 0, 0, 0, 0]] * 3
    assert tuple(out['pixel_values'].shape) == (6, 3) and out['image_grid_thw'].tolist() == [[1, 2, 2]] * 3 and out['flag'] is True
    with pytest.raises(ValueError, match='per prompt token'):
        batch_prompt_inputs({'new_per_token_ids': torch.zeros(1, 4)}, prompt_len=4, rows=2, row_len=6)
    with pytest.raises(ValueError, match='expected'):
        batch_prompt_inputs({'mm_token_type_ids': torch.zeros(1, 3)}, prompt_len=4, rows=2, row_len=6)


def test_a_micro_batch_with_images_trains(tmp_path, monkeypatch):
    fake_transformers.install(monkeypatch)
    service = hf_service(tmp_path)
    policy = service.policy
    prompt = policy.encode_prompt(IMAGE_MESSAGES, [b'reference', b'target'])
    ids = completion_ids(4, lengths=[3, 6, 2, 5])
    with torch.no_grad():
        logps = [lp.tolist() for lp in policy.completion_logprobs(prompt, ids, 1.0)]
    g = {'images': [image(b'reference'), image(b'target')], 'messages': IMAGE_MESSAGES, 'prompt_token_ids': prompt.ids,
         'completions': [{'text': 't', 'token_ids': c, 'sampling_logprobs': lp, 'advantage': a, 'weight': 1.0, 'truncated': False}
                         for c, lp, a in zip(ids, logps, [1.0, -1.0, 0.5, -0.5])]}
    reply = service.forward_backward(fb_request([g]))
    assert reply['prompt_tokens_match'] is True and reply['sequences'] == 4 and reply['loss'] == pytest.approx(0.0, abs=1e-6)
    assert service.optim_step({'run': RUN, 'step': 0, 'lr': 0.01})['grad_norm'] > 0


def test_under_zero3_the_reference_loads_whole_and_the_policy_partitioned(tmp_path, monkeypatch):
    """transformers partitions every from_pretrained while an HfDeepSpeedConfig with stage 3 is alive;
    a partitioned reference without an engine has empty weights, so β > 0 broke. The reference loads
    before that config exists; the policy after it (DeepSpeed itself is a stand-in here)."""
    import json
    import types

    from differad_trainer.policy import hf as hf_module
    from differad_trainer.policy.hf_engine import TorchEngine

    fake_transformers.install(monkeypatch)
    monkeypatch.setitem(__import__('sys').modules, 'deepspeed', types.ModuleType('deepspeed'))
    engines = []

    def engine(model, config, comm, ds_config, device):
        engines.append(ds_config)
        return TorchEngine(model, config, comm, device)

    monkeypatch.setattr(hf_module, 'create_engine', engine)
    zero3 = tmp_path / 'zero3.json'
    zero3.write_text(json.dumps({'zero_optimization': {'stage': 3}}))
    service = hf_service(tmp_path, deepspeed_config=str(zero3))
    reference, policy_model = service.policy.reference, service.policy.engine.model
    assert len(fake_transformers.AutoModelForImageTextToText.loaded) == 2 and engines[0]['zero_optimization']['stage'] == 3
    assert reference.loaded_under_zero3 is False and policy_model.loaded_under_zero3 is True
    assert not any(p.requires_grad for p in reference.parameters())
    reply = service.forward_backward(fb_request([hf_group(service)], beta=0.1))
    assert reply['kl'] == pytest.approx(0.0, abs=1e-9)


def test_transformers_releases_with_the_shifted_qwen2_5_vl_rope_are_refused(tmp_path, monkeypatch):
    """5.4.0–5.5.3 scale still images' temporal rope positions by tokens_per_second; 5.5.4 fixed it."""
    module = fake_transformers.install(monkeypatch)
    for broken in ('5.4.0', '5.5.0', '5.5.3'):
        monkeypatch.setattr(module, '__version__', broken)
        with pytest.raises(RuntimeError, match='5.5.4'):
            hf_service(tmp_path)
    for fine in ('5.3.0', '5.5.4', '5.19.0', '5.19.0.dev0'):
        monkeypatch.setattr(module, '__version__', fine)
        hf_service(tmp_path)


def test_the_image_pins_a_transformers_with_the_rope_fix_that_vllm_accepts():
    """docker/trainer/requirements.txt: transformers outside 5.4.0–5.5.3, inside the pinned vLLM's range
    (vLLM 0.23.0: >=4.56.0 except 5.0–5.4 and 5.5.0; vLLM 0.32.0: >=5.16.1,<5.20.0, METADATA Requires-Dist)."""
    from differad_trainer.policy.hf import BROKEN_QWEN2_5_VL_ROPE, _release

    text = open(os.path.join(os.path.dirname(__file__), '..', 'requirements.txt'), encoding='utf-8').read()
    pins = dict(line.split('==') for line in text.splitlines() if '==' in line and not line.startswith('#'))
    transformers, vllm = _release(pins['transformers']), pins['vllm']
    low, high = BROKEN_QWEN2_5_VL_ROPE
    assert not low <= transformers <= high
    accepted = {
        '0.23.0': lambda v: v >= (4, 56, 0) and not (5, 0, 0) <= v < (5, 5, 0) and v != (5, 5, 0),
        '0.32.0': lambda v: (5, 16, 1) <= v < (5, 20, 0),
    }
    assert vllm in accepted, f'add vLLM {vllm}\'s transformers requirement here'
    assert accepted[vllm](transformers)
    assert pins['torch'] == {'0.23.0': '2.11.0', '0.32.0': '2.13.0'}[vllm]  # vLLM pins torch exactly (Requires-Dist torch==)
