"""Checkpoint and weight files: paths kept inside their directory, written atomically.

Atomic = written under a temporary name in the same directory, fsynced, then
renamed over the target, so a crash never leaves a half-written checkpoint
under the real name (the orchestrator may load it after a restart).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any, Dict, Optional

import torch

from .errors import TrainerError

FORMAT = 'differad-python-trainer-checkpoint'
# torch.load(weights_only=True) unpickles data only, never code; torch 1.13's version cannot even
# read floats (Debian's CI torch), so there the checkpoint directory (which only the trainer
# writes, paths confined by resolve_inside) is trusted instead.
_WEIGHTS_ONLY = tuple(int(x) for x in torch.__version__.split('.')[:2]) >= (2, 0)
FORMAT_VERSION = 1


#: The longest file or folder name a client may give, in UTF-8 bytes: the usual 255 (ext4, xfs) less
#: room for the ``.<random>.tmp`` suffix of the atomic writes, so a name that passes cannot fail at the
#: file system (ENAMETOOLONG would otherwise be a 500). The CPU trainer has the same limit.
MAX_PATH_NAME_BYTES = 200


def unusable_path_reason(path: str) -> Optional[str]:
    """Why the file system would refuse ``path`` (a NUL character, a name over MAX_PATH_NAME_BYTES), or None."""
    if '\0' in path:
        return 'must not contain a NUL character'
    long = next((name for name in path.split('/') if len(name.encode('utf-8', 'surrogatepass')) > MAX_PATH_NAME_BYTES), None)
    return None if long is None else f'has a name longer than {MAX_PATH_NAME_BYTES} bytes: {long[:40]}…'


def resolve_inside(directory: str, path: str, field: str) -> str:
    """``path`` under ``directory`` (relative paths are taken from it); a path outside, or one the
    file system would refuse, is a bad request naming ``field``, so a client cannot make the trainer
    read or write elsewhere."""
    unusable = unusable_path_reason(path)
    if unusable is not None:
        raise TrainerError('TRAINER_REQUEST_INVALID', f'{field} {unusable}', {'fields': [{'field': field, 'message': unusable}]})
    root = os.path.realpath(directory)
    full = os.path.realpath(os.path.join(root, path))
    if full == root or os.path.commonpath([root, full]) != root:
        raise TrainerError(
            'TRAINER_REQUEST_INVALID',
            f'{field} must be a file inside {root}: {path}',
            {'fields': [{'field': field, 'message': f'must be a file inside {root}'}]},
        )
    return full


def default_checkpoint_path(directory: str, run: str, step: int) -> str:
    return os.path.join(os.path.realpath(directory), run, f'step-{step:08d}.pt')


def write_torch_checkpoint(path: str, state: Dict[str, Any]) -> None:
    """torch.save(state) to ``path`` atomically."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + '.', suffix='.tmp', dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, 'wb') as f:
            torch.save({'format': FORMAT, 'format_version': FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def read_torch_checkpoint(path: str) -> Dict[str, Any]:
    """TRAINER_CHECKPOINT_NOT_FOUND when missing, TRAINER_CHECKPOINT_INVALID when not ours."""
    if not os.path.isfile(path):
        raise TrainerError('TRAINER_CHECKPOINT_NOT_FOUND', f'no checkpoint at {path}', {'path': path})
    try:
        state = torch.load(path, map_location='cpu', weights_only=_WEIGHTS_ONLY)
    except Exception as e:  # noqa: BLE001 - any unreadable file is the same answer
        raise TrainerError('TRAINER_CHECKPOINT_INVALID', f'cannot read {path}: {e}', {'path': path}) from e
    if not isinstance(state, dict) or state.get('format') != FORMAT or state.get('format_version') != FORMAT_VERSION:
        raise TrainerError('TRAINER_CHECKPOINT_INVALID', f'{path} is not a {FORMAT} v{FORMAT_VERSION} file', {'path': path})
    for key in ('run', 'step', 'weight_version'):
        if key not in state:
            raise TrainerError('TRAINER_CHECKPOINT_INVALID', f'{path} has no {key}', {'path': path})
    return state


def replace_directory(target: str, fill) -> int:
    """Creates a temporary sibling directory, lets ``fill(tmp)`` write into it, then swaps it in
    for ``target``. Returns the bytes written."""
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=os.path.basename(target) + '.', suffix='.tmp', dir=parent)
    try:
        fill(tmp)
        size = 0
        for root, _, files in os.walk(tmp):
            for name in files:
                with open(os.path.join(root, name), 'rb') as f:
                    os.fsync(f.fileno())
                size += os.path.getsize(os.path.join(root, name))
        old = None
        if os.path.exists(target):
            old = tempfile.mkdtemp(prefix=os.path.basename(target) + '.', suffix='.old', dir=parent)
            os.replace(target, os.path.join(old, 'previous'))
        os.replace(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return size
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
