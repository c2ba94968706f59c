"""Entry point: ``python -m differad_trainer [--host H] [--port P]`` (one process), or under
``torchrun --nproc-per-node N -m differad_trainer`` (rank 0 serves HTTP, the others replay
its commands). Settings come from ``DIFFERAD_TRAINER_*`` (config.py); flags win.

Prints ``differad trainer listening on http://HOST:PORT`` once bound (port 0 picks a free one;
health says "starting"), then ``differad trainer ready`` once the model is loaded (health "ok").
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import time

from .comm import create_comm
from .config import load_config
from .errors import TrainerError
from .service import TrainerService

log = logging.getLogger('differad_trainer')


def replay_commands(service: TrainerService) -> None:
    """Ranks > 0: run every command rank 0 broadcasts, until it says shutdown. A TrainerError
    is the same on every rank (same state, same request) and rank 0 has answered it."""
    while True:
        name, payload = service.comm.broadcast_command(None)
        if name == 'shutdown':
            return
        try:
            service.execute(name, payload)
        except TrainerError:
            pass


def serve(service: TrainerService) -> int:
    import uvicorn

    from .app import Dispatcher, create_app

    config = service.config
    family = socket.AF_INET6 if ':' in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((config.host, config.port))
    sock.listen(2048)  # connections wait in the backlog from the moment the URL is printed
    port = sock.getsockname()[1]
    dispatcher = Dispatcher(service)
    server = uvicorn.Server(uvicorn.Config(create_app(service, dispatcher), log_config=None,
                                           log_level=os.environ.get('DIFFERAD_TRAINER_LOG_LEVEL', 'info')))
    failed = []

    def stop_on_load_error(error: BaseException) -> None:
        failed.append(error)
        server.should_exit = True

    dispatcher.on_load_error = stop_on_load_error
    loading_since = time.monotonic()
    dispatcher.on_loaded = lambda: print(f'differad trainer ready: model loaded in {time.monotonic() - loading_since:.1f}s', flush=True)
    host = f'[{config.host}]' if family == socket.AF_INET6 else config.host
    print(f'differad trainer listening on http://{host}:{port} ({config.backend} backend, model {config.model_name}, '
          f'world size {service.comm.world_size})', flush=True)
    server.run(sockets=[sock])
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='python -m differad_trainer', description='differad trainer API v1 (docs/trainer-api.json)')
    parser.add_argument('--host', help='address to bind (DIFFERAD_TRAINER_HOST, default 127.0.0.1)')
    parser.add_argument('--port', type=int, help='TCP port, 0 for a free one (DIFFERAD_TRAINER_PORT, default 8200)')
    parser.add_argument('--backend', choices=['tiny', 'hf'], help='policy backend (DIFFERAD_TRAINER_BACKEND)')
    parser.add_argument('--model', help='hf: model id or path (DIFFERAD_TRAINER_MODEL)')
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
    try:
        config = load_config(os.environ, host=args.host, port=args.port, backend=args.backend, model=args.model)
    except ValueError as e:
        print(f'error: {e}', file=sys.stderr)
        return 2
    comm = create_comm()
    service = TrainerService(config, comm)
    if comm.rank == 0:
        return serve(service)
    service.load()
    replay_commands(service)
    return 0


if __name__ == '__main__':
    sys.exit(main())
