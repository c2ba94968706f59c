"""Bodies over the limit: 413 without buffering them, Connection: close, a bounded drain the client can read through."""
import asyncio
import json
import socket
import threading

import uvicorn
from builders import tiny_service

from differad_trainer.app import create_app
from differad_trainer.body_limit import DRAIN_MAX_BYTES
from differad_trainer.config import TrainerConfig, load_config

MiB = 1024 * 1024
CHUNK = 64 * 1024


class Upload:
    """An ASGI receive() handing out ``total`` bytes in CHUNK pieces, counting what the app took (nothing is allocated up front)."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.taken = 0
        self.piece = b'x' * CHUNK

    async def __call__(self):
        if self.taken >= self.total:
            return {'type': 'http.disconnect'}
        size = min(CHUNK, self.total - self.taken)
        self.taken += size
        return {'type': 'http.request', 'body': self.piece[:size], 'more_body': self.taken < self.total}


def post(app, upload: Upload, declare_length: bool):
    """Runs one POST /v1/forward_backward through the ASGI app; the messages it sent."""
    headers = [(b'content-type', b'application/json')]
    if declare_length:
        headers.append((b'content-length', str(upload.total).encode()))
    scope = {'type': 'http', 'asgi': {'version': '3.0'}, 'http_version': '1.1', 'method': 'POST', 'scheme': 'http', 'path': '/v1/forward_backward',
             'raw_path': b'/v1/forward_backward', 'root_path': '', 'query_string': b'', 'headers': headers, 'client': ('127.0.0.1', 1), 'server': ('127.0.0.1', 2)}
    sent = []

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, upload, send))
    return sent


def check_413(sent):
    start, bodies = sent[0], sent[1:]
    assert start['status'] == 413
    assert (b'connection', b'close') in start['headers']
    assert json.loads(b''.join(m['body'] for m in bodies))['error']['code'] == 'TRAINER_BODY_TOO_LARGE'
    assert bodies[-1]['more_body'] is False


def test_the_default_limit_is_64_mib():
    assert TrainerConfig().max_body_bytes == 64 * MiB
    assert load_config({'DIFFERAD_TRAINER_MAX_BODY_BYTES': str(3 * MiB)}).max_body_bytes == 3 * MiB


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(tmp_path):
    app = create_app(tiny_service(tmp_path, max_body_bytes=1 * MiB))
    upload = Upload(200 * MiB)
    sent = post(app, upload, declare_length=True)
    check_413(sent)
    # Not one byte buffered: what was taken is only the drain after the 413 went out, a few MiB at most.
    assert upload.taken <= DRAIN_MAX_BYTES + CHUNK


def test_a_streamed_body_stops_being_read_past_the_limit(tmp_path):
    app = create_app(tiny_service(tmp_path, max_body_bytes=1 * MiB))
    upload = Upload(200 * MiB)
    sent = post(app, upload, declare_length=False)
    check_413(sent)
    assert upload.taken <= 1 * MiB + CHUNK + DRAIN_MAX_BYTES + CHUNK


def test_a_client_still_sending_reads_the_413_over_a_real_socket(tmp_path):
    app = create_app(tiny_service(tmp_path, max_body_bytes=64 * 1024))
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(8)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan='off'))
    thread = threading.Thread(target=server.run, kwargs={'sockets': [listener]}, daemon=True)
    thread.start()
    try:
        client = socket.create_connection(listener.getsockname(), timeout=10)
        # More than the limit, less than the drain allowance: the server reads it all before closing,
        # so the kernel has no unread input to answer with a reset. (A client that goes on sending
        # past the drain allowance may see a reset instead of the reply, by design: the drain is bounded.)
        total = DRAIN_MAX_BYTES // 2
        client.sendall(b'POST /v1/forward_backward HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n'
                       + f'Content-Length: {total}\r\n\r\n'.encode())

        def upload():
            piece = b'x' * CHUNK
            try:
                for _ in range(total // CHUNK):
                    client.sendall(piece)
            except OSError:
                pass  # the server closed after its bounded drain, as it should

        writer = threading.Thread(target=upload, daemon=True)
        writer.start()
        reply = b''
        while True:
            data = client.recv(65536)
            if not data:
                break
            reply += data
        writer.join(10)
        client.close()
        head, _, body = reply.partition(b'\r\n\r\n')
        assert head.startswith(b'HTTP/1.1 413'), head
        assert b'connection: close' in head.lower()
        assert json.loads(body)['error']['code'] == 'TRAINER_BODY_TOO_LARGE'
    finally:
        server.should_exit = True
        thread.join(10)
