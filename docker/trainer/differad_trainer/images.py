"""The image cache: images arrive with bytes once and by SHA-256 afterwards (TrainerImage in
forward-backward.ts). Bounded in bytes, least recently used first out."""
from __future__ import annotations

import base64
import collections
import hashlib
from typing import Dict, List, Sequence

from .errors import TrainerError


class ImageCache:
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: 'collections.OrderedDict[str, bytes]' = collections.OrderedDict()
        self._size = 0

    def __len__(self) -> int:
        return len(self._items)

    def _put(self, sha: str, data: bytes) -> None:
        if sha in self._items:
            self._items.move_to_end(sha)
            return
        self._items[sha] = data
        self._size += len(data)
        while self._size > self.max_bytes and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._size -= len(old)

    def resolve_groups(self, groups: Sequence[dict]) -> List[List[bytes]]:
        """Every group's image bytes, in order. Bytes sent now are checked against their hash
        (400 naming the field) and cached; hashes never sent with bytes are answered with
        TRAINER_IMAGE_UNKNOWN listing them, so the caller resends those."""
        decoded: Dict[str, bytes] = {}
        for gi, g in enumerate(groups):
            for ii, image in enumerate(g['images']):
                if image.get('data') is None:
                    continue
                data = base64.b64decode(image['data'])
                if hashlib.sha256(data).hexdigest() != image['sha256']:
                    field = f'groups.{gi}.images.{ii}.data'
                    raise TrainerError('TRAINER_REQUEST_INVALID', f'{field}: the bytes do not hash to sha256 {image["sha256"]}',
                                       {'fields': [{'field': field, 'message': 'SHA-256 of the bytes differs from sha256'}]})
                decoded[image['sha256']] = data
        for sha, data in decoded.items():
            self._put(sha, data)
        missing = sorted({i['sha256'] for g in groups for i in g['images'] if i['sha256'] not in self._items and i['sha256'] not in decoded})
        if missing:
            raise TrainerError('TRAINER_IMAGE_UNKNOWN', f'{len(missing)} image(s) referenced by hash were never sent with bytes', {'missing': missing})
        out = []
        for g in groups:
            row = []
            for image in g['images']:
                sha = image['sha256']
                if sha in self._items:
                    self._items.move_to_end(sha)
                row.append(decoded.get(sha) or self._items[sha])
            out.append(row)
        return out
