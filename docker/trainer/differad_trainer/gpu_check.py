"""GPU smoke check of the production path: ``docker/trainer/gpu-check.sh`` (or ``python -m differad_trainer.gpu_check``).

Builds a tiny *random* Qwen2-VL (2 text layers, 2 vision blocks, a character
tokenizer with Qwen's special tokens and chat template) with transformers,
entirely offline, saves it, then drives the real ``hf`` backend through the
trainer service: two images + chat messages → processor → prompt check,
forward_backward on a group with known ratios (docs/method.md §6 by hand), optim_step,
a second step that lowers the surrogate loss, checkpoint save/load and a disk
weight send. ``--deepspeed docker/trainer/deepspeed/zero2.json`` runs the same
through DeepSpeed (single process). Needs a CUDA GPU, torch, transformers,
pillow (the image has them). Takes well under two minutes.
"""
from __future__ import annotations

import argparse
import io
import math
import os
import socket
import sys
import tempfile
import time

import torch

CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n{% else %}"
    "{% for content in message['content'] %}{% if content['type'] == 'image' %}<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'text' %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<|vision_start|>', '<|vision_end|>', '<|image_pad|>', '<|video_pad|>']


def build_tiny_qwen2_vl(directory: str) -> None:
    """A random Qwen2-VL small enough to train in seconds, with a processor, saved to ``directory``."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2VLConfig, Qwen2VLForConditionalGeneration, Qwen2VLImageProcessor, Qwen2VLProcessor

    chars = [chr(c) for c in range(32, 127)] + ['\n', '\t']
    vocab = {t: i for i, t in enumerate(['<unk>'] + chars)}
    core = Tokenizer(models.WordLevel(vocab, unk_token='<unk>'))
    core.pre_tokenizer = pre_tokenizers.Split(Regex(r'(?s).'), behavior='isolated')
    core.add_special_tokens(SPECIALS)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, unk_token='<unk>', pad_token='<|endoftext|>', eos_token='<|im_end|>',
                                        additional_special_tokens=SPECIALS[1:])
    tokenizer.chat_template = CHAT_TEMPLATE
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIALS}

    config = Qwen2VLConfig()
    text = getattr(config, 'text_config', config)
    # head_dim stays 128, so the default multimodal RoPE sections still add up.
    for key, value in dict(vocab_size=len(tokenizer), hidden_size=256, intermediate_size=512, num_hidden_layers=2,
                           num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=4096).items():
        setattr(text, key, value)
        if text is not config and hasattr(config, key):
            setattr(config, key, value)
    for key, value in dict(depth=2, embed_dim=64, num_heads=2, hidden_size=256).items():
        setattr(config.vision_config, key, value)
    for key, token in dict(image_token_id='<|image_pad|>', video_token_id='<|video_pad|>', vision_start_token_id='<|vision_start|>',
                           vision_end_token_id='<|vision_end|>').items():
        setattr(config, key, ids[token])
        if text is not config:
            setattr(text, key, ids[token])
    torch.manual_seed(0)
    model = Qwen2VLForConditionalGeneration(config).to(torch.bfloat16)
    model.save_pretrained(directory, safe_serialization=True)
    processor = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer, chat_template=CHAT_TEMPLATE)
    processor.save_pretrained(directory)


def png(color: tuple) -> bytes:
    from PIL import Image

    image = Image.new('RGB', (112, 84), color)
    image.paste((255, 255, 255), (30, 20, 60, 50))
    out = io.BytesIO()
    image.save(out, format='PNG')
    return out.getvalue()


def check(condition: bool, what: str) -> None:
    print(('ok   ' if condition else 'FAIL ') + what, flush=True)
    if not condition:
        sys.exit(1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--deepspeed', default='', help='a DeepSpeed config (e.g. docker/trainer/deepspeed/zero2.json)')
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print('gpu-check: no CUDA device visible to torch; nothing to check', file=sys.stderr)
        return 2
    if args.deepspeed:  # DeepSpeed initializes torch.distributed from these, as torchrun would set them
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            port = s.getsockname()[1]
        os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port), RANK='0', LOCAL_RANK='0', WORLD_SIZE='1')
    from .config import TrainerConfig
    from .service import TrainerService

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix='differad-gpu-check-') as tmp:
        build_tiny_qwen2_vl(os.path.join(tmp, 'model'))
        config = TrainerConfig(backend='hf', model=os.path.join(tmp, 'model'), reference=True, deepspeed_config=args.deepspeed,
                               checkpoint_dir=os.path.join(tmp, 'ckpt'), weights_dir=os.path.join(tmp, 'weights'), forward_chunk=4)
        service = TrainerService(config)
        service.load()
        print(f'model built and loaded in {time.monotonic() - started:.1f}s on {torch.cuda.get_device_name()}', flush=True)
        images = [png((40, 90, 160)), png((40, 90, 170))]
        messages = [{'role': 'system', 'content': 'Reason in <think>, answer the box in <answer>.'},
                    {'role': 'user', 'content': [{'type': 'image', 'image': 0}, {'type': 'image', 'image': 1}, {'type': 'text', 'text': 'Where is the defect?'}]}]
        policy = service.policy
        prompt = policy.encode_prompt(messages, images)
        check(sum(1 for t in prompt.ids if t == policy.processor.tokenizer.convert_tokens_to_ids('<|image_pad|>')) > 2, 'images expanded to patch tokens')
        advantages = [0.937476, 0.622508, 0.202552, -1.512270, 0.902832, -0.164910, -1.512270, 0.524081]
        ratios = [1.0, 1.5, 0.5, 0.5, 1.1, 1.0, 1.3, 0.9]
        weight = 1.423427
        ids = [[40 + (7 * i + 3 * t) % 50 for t in range(12)] for i in range(8)]
        with torch.no_grad():
            logps = [lp.tolist() for lp in policy.completion_logprobs(prompt, ids, 1.0)]
        import base64
        import hashlib

        group = {'images': [{'sha256': hashlib.sha256(b).hexdigest(), 'data': base64.b64encode(b).decode()} for b in images],
                 'messages': messages, 'prompt_token_ids': prompt.ids,
                 'completions': [{'text': '', 'token_ids': ids[i], 'sampling_logprobs': [x - math.log(ratios[i]) for x in logps[i]],
                                  'advantage': advantages[i], 'weight': weight, 'truncated': False} for i in range(8)]}
        loss_cfg = {'clip_low': 0.2, 'clip_high': 0.2, 'beta': 0.04, 'normalization': 'sequence', 'mask_truncated': True, 'temperature': 1.0}
        request = {'run': 'gpu-check', 'step': 0, 'micro_batch': 0, 'micro_batches': 1, 'loss': loss_cfg, 'groups': [group]}
        first = service.forward_backward(request)
        print(first, flush=True)
        check(abs(first['loss'] - 0.016036) < 2e-3, f'docs/method.md §6 loss {first["loss"]:.6f} ≈ 0.016036 (bf16 tolerance)')
        check(first['clip_fraction'] == 0.25 and first['prompt_tokens_match'] is True, 'clip fraction 0.25, prompt tokens match')
        check(first['kl'] is not None and abs(first['kl']) < 1e-3, 'k3 KL against the frozen reference ≈ 0 at the start')
        step = service.optim_step({'run': 'gpu-check', 'step': 0, 'lr': 1e-3, 'max_grad_norm': 1.0})
        check(step['applied'] and math.isfinite(step['grad_norm']) and step['grad_norm'] > 0, f'optim_step applied, grad norm {step["grad_norm"]:.4f}')
        second = service.forward_backward({**request, 'step': 1})
        check(second['loss'] < first['loss'], f'one step lowered the surrogate loss: {first["loss"]:.6f} → {second["loss"]:.6f}')
        service.optim_step({'run': 'gpu-check', 'step': 1, 'lr': 1e-3})
        saved = service.save_checkpoint({'run': 'gpu-check', 'step': 1})
        check(service.load_checkpoint({'path': saved['path']}) == saved, f'checkpoint round trip ({saved["path"]})')
        sent = service.send_weights({'version': 2, 'backend': 'disk'})
        check(any(f.endswith('.safetensors') for f in os.listdir(sent['path'])), f'disk weights: {sent["bytes"]} bytes of safetensors')
    print(f'gpu-check OK in {time.monotonic() - started:.1f}s (peak {torch.cuda.max_memory_allocated() / 2**20:.0f} MiB)', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
