"""Prints the ``ContractSample`` of the tiny backend as JSON (``python -m differad_trainer.contract_sample``).

The trainer contract suite (packages/trainer-client/src/contract/trainer-contract.ts)
needs a prompt and at least 9 completions with their log-probs under the
trainer's starting weights at temperature 1; test/e2e/python-trainer-contract.test.ts
reads them from here and runs the suite against this service. Same settings
as a trainer started with the default DIFFERAD_TRAINER_* (seed 0, tiny sizes).
"""
from __future__ import annotations

import base64
import hashlib
import json
import sys

import torch

from .config import load_config
from .policy.fake_tokens import encode_messages
from .policy.tiny import TinyPolicy
from .comm import Comm


def contract_sample(count: int = 9, length: int = 6) -> dict:
    policy = TinyPolicy(load_config({}), Comm())
    images = [b'\x89PNG reference: the tiny backend never decodes images', b'\x89PNG target']
    messages = [
        {'role': 'system', 'content': 'Reason inside <think></think>, then answer the box inside <answer></answer>.'},
        {'role': 'user', 'content': [{'type': 'image', 'image': 0}, {'type': 'image', 'image': 1},
                                     {'type': 'text', 'text': 'Where is the anomaly in the target?'}]},
    ]
    prompt = policy.encode_prompt(messages, images)
    ids = [[(37 * i + 11 * t + 5) % 150_000 + 10 for t in range(length)] for i in range(count)]
    with torch.no_grad():
        logps = policy.completion_logprobs(prompt, ids, 1.0)
    return {
        'images': [{'sha256': hashlib.sha256(b).hexdigest(), 'data': base64.b64encode(b).decode(), 'media_type': 'image/png'} for b in images],
        'messages': messages,
        'prompt_token_ids': encode_messages(messages),
        'completions': [{'text': f'<think>sample {i}</think><answer>(10,20),(30,40)</answer>', 'token_ids': c, 'logprobs': lp.tolist()}
                        for i, (c, lp) in enumerate(zip(ids, logps))],
    }


if __name__ == '__main__':
    json.dump(contract_sample(), sys.stdout)
    sys.stdout.write('\n')
