"""Request bodies with a size limit, and a 413 the client still reads.

The same behaviour as packages/inference/src/serve/request-body.ts: a body
declared (Content-Length) over the limit is refused before a byte of it is
read; a body that grows past it while streaming stops being buffered. The
413 goes out with ``Connection: close``, then what is left of the body is
read and thrown away up to a few MiB or two seconds, and only then does the
response end: a server that closes a socket with unread input makes the
kernel reset the connection, and a client still sending would see ECONNRESET
instead of the 413.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable, Dict, List

from starlette.responses import JSONResponse

from .errors import TrainerError

Receive = Callable[[], Awaitable[Dict[str, Any]]]

#: What is read and discarded after an early 413 at most, bytes and seconds.
DRAIN_MAX_BYTES = 4 * 1024 * 1024
DRAIN_MAX_SECONDS = 2.0


class BodyTooLarge(TrainerError):
    """TRAINER_BODY_TOO_LARGE; ``complete`` tells whether the client has sent its whole body."""

    def __init__(self, message: str, limit: int, complete: bool) -> None:
        super().__init__('TRAINER_BODY_TOO_LARGE', message, {'limit': limit})
        self.complete = complete


async def read_body(receive: Receive, headers: Any, limit: int) -> bytes:
    """The request body, at most ``limit`` bytes of it buffered; past that BodyTooLarge."""
    length = headers.get('content-length')
    if length is not None and length.isdigit() and int(length) > limit:
        raise BodyTooLarge(f'the body has {length} bytes; this trainer accepts at most {limit}', limit, complete=False)
    chunks: List[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message['type'] == 'http.disconnect':
            raise TrainerError('TRAINER_REQUEST_INVALID', 'the client closed the connection before the end of the body')
        chunk = message.get('body', b'')
        more = message.get('more_body', False)
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(f'the body exceeds {limit} bytes', limit, complete=not more)
        chunks.append(chunk)
        if not more:
            return b''.join(chunks)


async def drain(receive: Receive, max_bytes: int = DRAIN_MAX_BYTES, max_seconds: float = DRAIN_MAX_SECONDS) -> int:
    """Reads and discards the rest of a request body until it ends, or the limits are used up; the bytes read."""
    deadline = time.monotonic() + max_seconds
    drained = 0
    while drained <= max_bytes:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            message = await asyncio.wait_for(receive(), timeout=left)
        except asyncio.TimeoutError:
            break
        if message['type'] != 'http.request':
            break
        drained += len(message.get('body', b''))
        if not message.get('more_body', False):
            break
    return drained


class DrainingResponse(JSONResponse):
    """A JSON error sent to a request whose body is still arriving: Connection: close, body, drain, end."""

    def __init__(self, content: Any, status_code: int, max_bytes: int = DRAIN_MAX_BYTES, max_seconds: float = DRAIN_MAX_SECONDS) -> None:
        super().__init__(content, status_code=status_code, headers={'connection': 'close'})
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds

    async def __call__(self, scope: Any, receive: Receive, send: Callable[[Dict[str, Any]], Awaitable[None]]) -> None:
        await send({'type': 'http.response.start', 'status': self.status_code, 'headers': self.raw_headers})
        await send({'type': 'http.response.body', 'body': self.body, 'more_body': True})
        await drain(receive, self.max_bytes, self.max_seconds)
        await send({'type': 'http.response.body', 'body': b'', 'more_body': False})
