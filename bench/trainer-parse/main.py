"""bench/trainer-parse — how long the Python trainer takes to parse and validate one
forward_backward body whose completions carry their token ids and log-probs as JSON
arrays, and the same body packed (base64 of little-endian uint32 / float64), side by
side, alternating. Prints figures, never pass/fail.

    /usr/bin/python3 bench/trainer-parse/main.py                 # 32 groups × 8 completions × 1,024 tokens
    /usr/bin/python3 bench/trainer-parse/main.py --tokens 256 --rounds 5

Needs what docker/trainer's tests need (Debian's python3-fastapi, python3-pydantic).
"""
import argparse
import base64
import json
import random
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'docker' / 'trainer'))
from differad_trainer import app, schemas  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument('--groups', type=int, default=32)
parser.add_argument('--completions', type=int, default=8)
parser.add_argument('--tokens', type=int, default=1024)
parser.add_argument('--rounds', type=int, default=3)
args = parser.parse_args()


def body(packed: bool) -> bytes:
    rng = random.Random(1)  # the same numbers in both forms

    def completion() -> dict:
        ids = [rng.randrange(151_643) for _ in range(args.tokens)]
        lps = [-rng.random() * 5 for _ in range(args.tokens)]
        c = {'text': 'x' * 200, 'advantage': 0.5, 'weight': 1, 'truncated': False}
        if packed:
            c['packed'] = {
                'token_ids': base64.b64encode(struct.pack(f'<{len(ids)}I', *ids)).decode(),
                'sampling_logprobs': base64.b64encode(struct.pack(f'<{len(lps)}d', *lps)).decode(),
            }
        else:
            c['token_ids'], c['sampling_logprobs'] = ids, lps
        return c

    groups = [{'images': [], 'messages': [{'role': 'user', 'content': 'x'}], 'prompt_token_ids': None,
               'completions': [completion() for _ in range(args.completions)]} for _ in range(args.groups)]
    loss = {'clip_low': 0.2, 'clip_high': 0.28, 'beta': 0, 'normalization': 'token', 'mask_truncated': True, 'temperature': 1}
    return json.dumps({'run': 'bench', 'step': 0, 'micro_batch': 0, 'micro_batches': 1, 'loss': loss, 'groups': groups}).encode()


bodies = {'arrays': body(False), 'packed': body(True)}
times = {name: [] for name in bodies}
parsed = {}
for _ in range(args.rounds):
    for name, raw in bodies.items():
        started = time.perf_counter()
        parsed[name] = app.parse_request(raw, schemas.ForwardBackwardRequest)
        times[name].append((time.perf_counter() - started) * 1000)
same = parsed['arrays'] == parsed['packed']
print(f'bench/trainer-parse: one forward_backward body, {args.groups} groups × {args.completions} completions × {args.tokens} tokens, '
      f'parse_request (JSON + pydantic), {args.rounds} rounds alternating; Python {sys.version.split()[0]}')
for name, raw in bodies.items():
    ms = sorted(times[name])
    print(f'  {name:7} {len(raw) / 1e6:5.1f} MB   median {ms[len(ms) // 2]:7.1f} ms   runs {" ".join(f"{t:.0f}" for t in times[name])}')
a, p = (sorted(times[n])[len(times[n]) // 2] for n in ('arrays', 'packed'))
print(f'  packed ÷ arrays: {p / a:.2f}× the time, {len(bodies["packed"]) / len(bodies["arrays"]):.2f}× the bytes; '
      f'the same request after parsing: {"yes" if same else "NO"}')
