"""Builds a tiny random Qwen2-VL checkpoint from a config: nothing is downloaded.

The result is a folder that `vllm serve` and transformers load like a hub
checkpoint: config.json, model.safetensors (random weights, fixed seed), a
byte-level BPE tokenizer trained here on a few lines of text with Qwen2-VL's
special tokens and chat template, and the Qwen2-VL image and video processor
configs with small pixel bounds (a 64x64 image becomes 4 image tokens).

Its outputs are noise, but every shape, token and code path is the real
model's: the multimodal prompt with <|vision_start|><|image_pad|>...<|vision_end|>,
the vision tower, M-RoPE, sampling and log-probs. Used by test/live-vllm.

    python tools/tiny-vlm/build_tiny_qwen2_vl.py OUT_DIR [--seed 0] [--force]

Needs torch, transformers (5.x), tokenizers and safetensors: the venv of
scripts/python-venv.mjs has them. The same seed gives the same files.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

# Qwen2-VL's added tokens, in its order (ids follow the BPE vocabulary here).
SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
]

# Qwen2-VL-Instruct's chat template (image and video parts, optional vision ids).
CHAT_TEMPLATE = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}"
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n{% endif %}"
    "<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}"
    "{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}"
    "{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# What the BPE merges are learnt from: the words of differad's prompts and answers.
CORPUS = [
    "You are a helpful assistant.",
    "Answer with <think>...</think><answer>(x1,y1),(x2,y2)</answer>.",
    "Compare the target with the reference and box the anomaly.",
    "The first image is the reference, the second the target. Find the defect.",
    "<think>The target has a dark patch near the centre.</think><answer>(20,24),(32,36)</answer>",
    "<answer>none</answer> There is no anomaly: the images are the same.",
    "0 1 2 3 4 5 6 7 8 9 10 12 16 24 32 36 48 64 100 128 256 512 1000",
    "scratch crack dent stain hole missing part contamination color defect",
]

# Pixel bounds: 28x28 is one merged token, so 4..16 image tokens per image.
MIN_PIXELS = 28 * 28 * 4
MAX_PIXELS = 28 * 28 * 16
BPE_VOCAB = 400


def build_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=BPE_VOCAB,
        min_frequency=1,
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        special_tokens=[],
    )
    tok.train_from_iterator(CORPUS * 4, trainer=trainer)
    # The special tokens first, in Qwen's order (ids right after the BPE vocabulary), then their roles.
    tok.add_special_tokens(SPECIAL_TOKENS)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=32768, clean_up_tokenization_spaces=False)
    fast.add_special_tokens({"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "additional_special_tokens": SPECIAL_TOKENS})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build(out: Path, seed: int) -> dict:
    import torch
    from transformers import (
        Qwen2VLConfig,
        Qwen2VLForConditionalGeneration,
        Qwen2VLImageProcessor,
        Qwen2VLProcessor,
        Qwen2VLVideoProcessor,
    )

    tokenizer = build_tokenizer()
    ids = {t: tokenizer.convert_tokens_to_ids(t) for t in SPECIAL_TOKENS}
    vocab_size = len(tokenizer)
    # Head size 32 for text and vision: vLLM's CPU attention takes 32, 64, 80, ...
    config = Qwen2VLConfig(
        text_config={
            "vocab_size": vocab_size,
            "hidden_size": 128,
            "intermediate_size": 256,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "max_position_embeddings": 4096,
            "rms_norm_eps": 1e-6,
            "rope_parameters": {"rope_type": "default", "rope_theta": 1000000.0, "mrope_section": [4, 6, 6]},
            "bos_token_id": ids["<|endoftext|>"],
            "eos_token_id": ids["<|im_end|>"],
            "pad_token_id": ids["<|endoftext|>"],
            "tie_word_embeddings": False,
        },
        vision_config={
            "depth": 1,
            "embed_dim": 64,
            "hidden_size": 128,
            "mlp_ratio": 2,
            "num_heads": 2,
            "in_channels": 3,
            "patch_size": 14,
            "spatial_merge_size": 2,
            "temporal_patch_size": 2,
        },
        image_token_id=ids["<|image_pad|>"],
        video_token_id=ids["<|video_pad|>"],
        vision_start_token_id=ids["<|vision_start|>"],
        vision_end_token_id=ids["<|vision_end|>"],
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = Qwen2VLForConditionalGeneration(config).eval()
    # Larger-than-default logits so sampling is not uniform noise: answers still random, but varied.
    with torch.no_grad():
        model.lm_head.weight.normal_(0.0, 0.2)

    size = {"shortest_edge": MIN_PIXELS, "longest_edge": MAX_PIXELS}
    image_processor = Qwen2VLImageProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    video_processor = Qwen2VLVideoProcessor(size=size, patch_size=14, merge_size=2, temporal_patch_size=2)
    processor = Qwen2VLProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=video_processor,
        chat_template=CHAT_TEMPLATE,
    )

    # bfloat16, the dtype vLLM's CPU backend serves in anyway (it downcasts float32).
    model = model.to(torch.bfloat16)
    model.config.dtype = torch.bfloat16
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    processor.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # transformers 5 writes generation_config.json with its defaults; keep sampling plain.
    (out / "generation_config.json").write_text(
        json.dumps({"bos_token_id": ids["<|endoftext|>"], "eos_token_id": [ids["<|im_end|>"], ids["<|endoftext|>"]], "pad_token_id": ids["<|endoftext|>"]}, indent=2) + "\n"
    )
    params = sum(p.numel() for p in model.parameters())
    summary = {"vocab_size": vocab_size, "parameters": params, "special_token_ids": ids, "seed": seed}
    (out / "differad-tiny.json").write_text(json.dumps(summary, indent=2) + "\n")
    return {"dir": str(out), **summary}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="replace an existing folder")
    args = parser.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        if not args.force:
            print(f"{args.out} exists and is not empty (use --force)", file=sys.stderr)
            return 2
        shutil.rmtree(args.out)
    print(json.dumps(build(args.out, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
