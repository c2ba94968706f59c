"""Real processes: ``python -m differad_trainer`` on 127.0.0.1, alone and as two gloo ranks
(rank 0 serves HTTP and broadcasts, rank 1 replays), against the same steps in-process."""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from builders import RUN, fb_request, method_group, tiny_service

TRAINER_DIR = Path(__file__).resolve().parents[1]
LISTENING = re.compile(r'listening on (http://127\.0\.0\.1:\d+)')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start(tmp_path, extra_env=None):
    env = {**os.environ, 'PYTHONPATH': str(TRAINER_DIR), 'PYTHONDONTWRITEBYTECODE': '1', 'DIFFERAD_TRAINER_BACKEND': 'tiny',
           'DIFFERAD_TRAINER_CHECKPOINT_DIR': str(tmp_path / 'checkpoints'), 'DIFFERAD_TRAINER_WEIGHTS_DIR': str(tmp_path / 'weights'),
           'DIFFERAD_TRAINER_LOG_LEVEL': 'warning', **(extra_env or {})}
    return subprocess.Popen([sys.executable, '-m', 'differad_trainer', '--host', '127.0.0.1', '--port', '0'],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_for_url(proc, timeout=30.0):
    deadline, seen = time.monotonic() + timeout, ''
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 0.5)
        if ready:
            line = proc.stdout.readline()
            seen += line
            match = LISTENING.search(line)
            if match:
                return match.group(1)
        if proc.poll() is not None:
            break
    raise AssertionError(f'the trainer did not start:\n{seen}')


def stop(*procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    codes = []
    for p in procs:
        try:
            codes.append(p.wait(timeout=20))
        except subprocess.TimeoutExpired:
            p.kill()
            codes.append(p.wait())
    return codes


def run_two_steps(url, g):
    with httpx.Client(base_url=url, timeout=60) as client:
        assert client.get('/v1/health').json()['status'] in ('starting', 'ok')
        # Commands queue behind the model load on the dispatcher's thread: no polling needed.
        replies = [client.post('/v1/forward_backward', json=fb_request([g, g], micro_batches=1)).json()]
        replies.append(client.post('/v1/optim_step', json={'run': RUN, 'step': 0, 'lr': 0.01}).json())
        replies.append(client.post('/v1/forward_backward', json=fb_request([g], step=1, normalization='token')).json())
        replies.append(client.post('/v1/optim_step', json={'run': RUN, 'step': 1, 'lr': 0.01}).json())
        replies.append(client.post('/v1/forward_backward', json=fb_request([g], step=2)).json())
        replies.append(client.post('/v1/weights/send', json={'version': 2, 'backend': 'disk'}).json())
        replies.append(client.get('/v1/health').json())
        return replies


def test_the_service_process_trains_and_stops_on_sigterm(tmp_path):
    local = tiny_service(tmp_path / 'local')
    g = method_group(local)
    proc = start(tmp_path)
    try:
        replies = run_two_steps(wait_for_url(proc), g)
    finally:
        codes = stop(proc)
    assert replies[0]['loss'] == pytest.approx(0.016036, abs=1e-5) and replies[1]['applied'] is True
    assert replies[5]['path'] == str((tmp_path / 'weights' / 'v00000002').resolve())
    assert replies[6]['weight_version'] == 2 and replies[6]['world_size'] == 1
    assert codes == [0]


def test_two_ranks_train_exactly_like_one(tmp_path):
    local = tiny_service(tmp_path / 'local')
    g = method_group(local)
    expected = [local.forward_backward(fb_request([g, g])), local.optim_step({'run': RUN, 'step': 0, 'lr': 0.01}),
                local.forward_backward(fb_request([g], step=1, normalization='token')), local.optim_step({'run': RUN, 'step': 1, 'lr': 0.01}),
                local.forward_backward(fb_request([g], step=2))]
    dist = {'WORLD_SIZE': '2', 'MASTER_ADDR': '127.0.0.1', 'MASTER_PORT': str(free_port()), 'OMP_NUM_THREADS': '1'}
    ranks = [start(tmp_path, {**dist, 'RANK': str(r), 'LOCAL_RANK': str(r)}) for r in (0, 1)]
    try:
        replies = run_two_steps(wait_for_url(ranks[0]), g)
    finally:
        codes = stop(ranks[0])
        try:  # rank 1 leaves on rank 0's shutdown broadcast
            codes.append(ranks[1].wait(timeout=20))
        finally:
            stop(ranks[1])
    assert codes == [0, 0]
    # Loss after two Adam steps (step 2) included: the two ranks' summed gradients moved the weights alike.
    for got, want in zip(replies[:5], expected):
        for key in ('loss', 'clip_fraction', 'kl', 'grad_norm'):
            if key in want:
                assert got[key] == pytest.approx(want[key], rel=1e-4, abs=1e-7), key
        assert {k: v for k, v in got.items() if k not in ('loss', 'clip_fraction', 'kl', 'grad_norm')} == \
               {k: v for k, v in want.items() if k not in ('loss', 'clip_fraction', 'kl', 'grad_norm')}
    assert replies[6]['world_size'] == 2
    sent = Path(replies[5]['path'])
    assert sorted(p.name for p in sent.iterdir()) in (['config.json', 'model.pt'], ['config.json', 'model.safetensors'])
