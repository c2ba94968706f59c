"""A stand-in ``transformers`` module, so the hf backend's plumbing runs on CPU without the real one.

It imitates the parts policy/hf.py uses: ``AutoProcessor`` (a chat template
and a tokenizer), ``AutoModelForImageTextToText`` (a causal model with a
``model.visual`` tower, ``logits_to_keep``, gradient checkpointing and
``save_pretrained``). The real library runs in docker/trainer/gpu-check.sh.

Images go the way of transformers >= 5.3's Qwen2-VL/2.5-VL processors and
models: each ``<|image_pad|>`` becomes IMAGE_TOKENS image-token ids, the
processor returns ``pixel_values`` (one row per image token), ``image_grid_thw``
and ``mm_token_type_ids`` [1, P] (0 text, 1 image: processing_utils.py
create_mm_token_type_ids), and the model places positions from
``mm_token_type_ids`` like get_rope_index (models/qwen2_5_vl/modeling_qwen2_5_vl.py):
text +1 per token, an image's tokens at its grid rows, the next text after
max(h, w) / merge; it indexes ``mm_token_type_ids[b]`` with row b's attention
mask, so a [1, P] tensor next to [n, P + L] ids fails as in the real model.
"""
from __future__ import annotations

import json
import os
import sys
import types
from types import SimpleNamespace

import torch
from torch import nn

from differad_trainer.policy.fake_tokens import encode_text

VOCAB = 150_010
IMAGE_TOKEN_ID = 150_005
IMAGE_TOKENS = 4  # a 4×4 patch grid merged 2×2
MERGE = 2


class FakeProcessor:
    tokenizer = SimpleNamespace(pad_token_id=0)

    @classmethod
    def from_pretrained(cls, name, **kwargs):
        p = cls()
        p.kwargs = kwargs
        return p

    def apply_chat_template(self, conversation, tokenize, add_generation_prompt):
        assert tokenize is False and add_generation_prompt is True
        text = ''
        for m in conversation:
            content = m['content'] if isinstance(m['content'], str) else ''.join(p.get('text', '<|image_pad|>') for p in m['content'])
            text += f'<|im_start|>{m["role"]}\n{content}<|im_end|>\n'
        return text + '<|im_start|>assistant\n'

    def __call__(self, text, images, return_tensors):
        pieces = text[0].split('<|image_pad|>')
        row = encode_text(pieces[0])
        for piece in pieces[1:]:
            row += [IMAGE_TOKEN_ID] * IMAGE_TOKENS + encode_text(piece)
        ids = torch.tensor([row])
        out = {'input_ids': ids, 'attention_mask': torch.ones_like(ids), 'mm_token_type_ids': (ids == IMAGE_TOKEN_ID).long()}
        if images:
            assert len(images) == len(pieces) - 1
            out['pixel_values'] = torch.stack([torch.full((4,), float(k + 1)) for k in range(len(images)) for _ in range(IMAGE_TOKENS)])
            out['image_grid_thw'] = torch.tensor([[1, 4, 4]] * len(images))
        return out

    def save_pretrained(self, directory):
        with open(os.path.join(directory, 'preprocessor_config.json'), 'w') as f:
            json.dump({'fake': True}, f)


class FakeVlm(nn.Module):
    """Embedding → causal running mean → head; ``model.visual`` is a vision tower that is never used."""

    supports_logits_to_keep = True

    def __init__(self):
        super().__init__()
        self.model = nn.Module()
        self.model.visual = nn.Linear(4, 8)
        self.model.embed_tokens = nn.Embedding(VOCAB, 8)
        self.model.positions = nn.Embedding(512, 8)
        self.model.mix = nn.Linear(8, 8)
        self.lm_head = nn.Linear(8, VOCAB)
        self.config = SimpleNamespace(model_type='qwen2_5_vl', text_config=SimpleNamespace(max_position_embeddings=512), use_cache=True)
        self.calls = []

    def get_input_embeddings(self):
        return self.model.embed_tokens

    def gradient_checkpointing_enable(self, gradient_checkpointing_kwargs=None):
        self.checkpointing = gradient_checkpointing_kwargs

    def forward(self, input_ids, attention_mask, use_cache, **kwargs):
        if 'logits_to_keep' in kwargs and not self.supports_logits_to_keep:
            raise TypeError("forward() got an unexpected keyword argument 'logits_to_keep'")
        self.calls.append(kwargs.get('logits_to_keep'))
        h = self.model.embed_tokens(input_ids)
        pixels = kwargs.get('pixel_values')
        if pixels is not None:  # image features replace the image tokens' embeddings, in order
            mask = input_ids == IMAGE_TOKEN_ID
            if int(mask.sum()) != pixels.shape[0]:
                raise ValueError(f'Image features and image tokens do not match: tokens: {int(mask.sum())}, features {pixels.shape[0]}')
            h = h.masked_scatter(mask.unsqueeze(-1), self.model.visual(pixels.to(h.dtype)))
        h = h + self.model.positions(self.position_ids(input_ids, attention_mask, kwargs.get('mm_token_type_ids'), kwargs.get('image_grid_thw')))
        h = torch.tanh(self.model.mix(h.cumsum(1) / torch.arange(1, h.shape[1] + 1).view(1, -1, 1)))
        if kwargs.get('logits_to_keep'):
            h = h[:, -kwargs['logits_to_keep']:]
        return SimpleNamespace(logits=self.lm_head(h))

    @staticmethod
    def position_ids(input_ids, attention_mask, mm_token_type_ids, image_grid_thw):
        """get_rope_index's placement, collapsed to one position axis (the temporal/height one)."""
        if mm_token_type_ids is None or image_grid_thw is None:  # the model's 1-D fallback
            return (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        positions = torch.zeros_like(input_ids)
        grids = iter(image_grid_thw)  # one iterator over the whole batch, as in the real model
        for b in range(input_ids.shape[0]):
            keep = attention_mask[b].bool()
            types = mm_token_type_ids[b][keep].tolist()  # [1, P] next to [n, P + L] ids: IndexError
            row, current, i = [], 0, 0
            while i < len(types):
                j = i
                while j < len(types) and types[j] == types[i]:
                    j += 1
                if types[i] == 0:
                    row += range(current, current + j - i)
                    current += j - i
                else:
                    _, h, w = (int(x) for x in next(grids))
                    row += [current + k // (w // MERGE) for k in range(j - i)]
                    current += max(h, w) // MERGE
                i = j
            positions[b, keep] = torch.tensor(row, dtype=positions.dtype)
        return positions

    def save_pretrained(self, directory, safe_serialization=True, state_dict=None):
        torch.save(state_dict or self.state_dict(), os.path.join(directory, 'pytorch_model.bin'))
        with open(os.path.join(directory, 'config.json'), 'w') as f:
            json.dump({'model_type': 'fake-vlm'}, f)


class AutoModelForImageTextToText:
    loaded = []

    @classmethod
    def from_pretrained(cls, name, dtype, attn_implementation):
        torch.manual_seed(0)
        model = FakeVlm().to(dtype)
        # the real one loads under deepspeed.zero.Init (partitioned) while this is true
        model.loaded_under_zero3 = _integrations.is_deepspeed_zero3_enabled()
        cls.loaded.append(model)
        return model


def _make_integrations():
    """transformers.integrations' ZeRO-3 switch: a weakref to the live HfDeepSpeedConfig (integrations/deepspeed.py)."""
    import weakref

    module = types.ModuleType('transformers.integrations')
    module._ref = None

    class HfDeepSpeedConfig:
        def __init__(self, config):
            self.config = config
            module._ref = weakref.ref(self)

        def is_zero3(self):
            return int(self.config.get('zero_optimization', {}).get('stage', 0)) == 3

    def is_deepspeed_zero3_enabled():
        live = module._ref() if module._ref is not None else None
        return live is not None and live.is_zero3()

    module.HfDeepSpeedConfig = HfDeepSpeedConfig
    module.is_deepspeed_zero3_enabled = is_deepspeed_zero3_enabled
    return module


_integrations = _make_integrations()


class _FakeImage:
    def convert(self, mode):
        return self


def install(monkeypatch):
    """Puts the fake module (and a PIL whose Image.open accepts any bytes) in sys.modules for one test."""
    pil = types.ModuleType('PIL')
    pil.Image = types.SimpleNamespace(open=lambda f: _FakeImage())
    monkeypatch.setitem(sys.modules, 'PIL', pil)
    module = types.ModuleType('transformers')
    module.__version__ = '5.19.0'
    module.AutoProcessor = FakeProcessor
    module.AutoModelForImageTextToText = AutoModelForImageTextToText
    module.integrations = _integrations
    _integrations._ref = None
    AutoModelForImageTextToText.loaded = []
    monkeypatch.setitem(sys.modules, 'transformers', module)
    monkeypatch.setitem(sys.modules, 'transformers.integrations', _integrations)
    return module
