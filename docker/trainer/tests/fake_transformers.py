"""A stand-in ``transformers`` module, so the hf backend's plumbing runs on CPU without the real one.

It imitates the parts policy/hf.py uses: ``AutoProcessor`` (a chat template
and a tokenizer), ``AutoModelForImageTextToText`` (a causal model with a
``model.visual`` tower, ``logits_to_keep``, gradient checkpointing and
``save_pretrained``). The real library runs in docker/trainer/gpu-check.sh.
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
        ids = torch.tensor([encode_text(text[0])])
        return {'input_ids': ids, 'attention_mask': torch.ones_like(ids)}

    def save_pretrained(self, directory):
        with open(os.path.join(directory, 'preprocessor_config.json'), 'w') as f:
            json.dump({'fake': True}, f)


class FakeVlm(nn.Module):
    """Embedding → causal running mean → head; ``model.visual`` is a vision tower that is never used."""

    supports_logits_to_keep = True

    def __init__(self):
        super().__init__()
        self.model = nn.Module()
        self.model.visual = nn.Linear(4, 4)
        self.model.embed_tokens = nn.Embedding(VOCAB, 8)
        self.model.mix = nn.Linear(8, 8)
        self.lm_head = nn.Linear(8, VOCAB)
        self.config = SimpleNamespace(text_config=SimpleNamespace(max_position_embeddings=512), use_cache=True)
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
        h = torch.tanh(self.model.mix(h.cumsum(1) / torch.arange(1, h.shape[1] + 1).view(1, -1, 1)))
        if kwargs.get('logits_to_keep'):
            h = h[:, -kwargs['logits_to_keep']:]
        return SimpleNamespace(logits=self.lm_head(h))

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
        cls.loaded.append(model)
        return model


def install(monkeypatch):
    """Puts the fake module in sys.modules for one test."""
    module = types.ModuleType('transformers')
    module.AutoProcessor = FakeProcessor
    module.AutoModelForImageTextToText = AutoModelForImageTextToText
    AutoModelForImageTextToText.loaded = []
    monkeypatch.setitem(sys.modules, 'transformers', module)
    return module
