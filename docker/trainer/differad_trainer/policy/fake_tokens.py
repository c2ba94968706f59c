"""The tiny backend's tokenizer: the fake vLLM server's tokenization, bit for bit.

Mirrors packages/testing/src/fake-vllm/fake-tokens.ts so that a training loop
run against the fake vLLM server and this trainer's ``tiny`` backend checks the
prompt tokenization for real (prompt_tokens_match, docs/method.md §6: the trainer must
score what the server saw). Rules:

- text is split into words ``[A-Za-z]+``, single digits, runs of JavaScript
  whitespace and single other UTF-16 code units (the JS regex has no ``u`` flag);
- a piece's id is ``10 + FNV-1a(UTF-16 code units) mod 150000``;
- a prompt is 64 image placeholders (id 151655) per image, then the tokens of
  every text of the messages in order (roles and images' positions are not encoded).
"""
from __future__ import annotations

from typing import Iterable, List

VOCAB = 150_000
IMAGE_PAD_ID = 151_655
IMAGE_TOKENS = 64

# JavaScript's \s (ECMAScript WhiteSpace and LineTerminator), as UTF-16 code units.
_JS_SPACE = {0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000, 0xFEFF}
_JS_SPACE.update(range(0x2000, 0x200B))


def _kind(unit: int) -> str:
    if 0x41 <= unit <= 0x5A or 0x61 <= unit <= 0x7A:
        return 'word'
    if 0x30 <= unit <= 0x39:
        return 'digit'
    if unit in _JS_SPACE:
        return 'space'
    return 'other'


def _code_units(text: str) -> List[int]:
    raw = text.encode('utf-16-le', 'surrogatepass')
    return [raw[i] | (raw[i + 1] << 8) for i in range(0, len(raw), 2)]


def split_pieces(text: str) -> List[List[int]]:
    """``text.match(/[A-Za-z]+|\\d|\\s+|[^A-Za-z\\d\\s]/g)`` as lists of UTF-16 code units."""
    pieces: List[List[int]] = []
    for unit in _code_units(text):
        kind = _kind(unit)
        if pieces and kind in ('word', 'space') and _kind(pieces[-1][0]) == kind:
            pieces[-1].append(unit)
        else:
            pieces.append([unit])
    return pieces


def fake_token_id(units: Iterable[int]) -> int:
    """FNV-1a over UTF-16 code units, folded into the fake vocabulary (toFakeTokenId)."""
    h = 0x811C9DC5
    for u in units:
        h = ((h ^ u) * 0x01000193) & 0xFFFFFFFF
    return 10 + h % VOCAB


def encode_text(text: str) -> List[int]:
    return [fake_token_id(p) for p in split_pieces(text)]


def encode_prompt(texts: Iterable[str], image_count: int) -> List[int]:
    """toFakePromptIds: image placeholders first, then every text's tokens."""
    ids = [IMAGE_PAD_ID] * (IMAGE_TOKENS * image_count)
    for t in texts:
        ids.extend(encode_text(t))
    return ids


def encode_messages(messages: Iterable[dict]) -> List[int]:
    """The prompt ids of API chat messages (``content`` a string or text/image parts)."""
    texts: List[str] = []
    images = 0
    for m in messages:
        content = m['content']
        if isinstance(content, str):
            texts.append(content)
            continue
        for part in content:
            if part['type'] == 'text':
                texts.append(part['text'])
            else:
                images += 1
    return encode_prompt(texts, images)
