"""The trainer's commands: what each API route does, on every rank, in order.

Requests reach here validated (app.py) as plain JSON dicts. Each command runs
on one thread per rank (rank 0's dispatcher, the other ranks' replay loop), so
there is no concurrent training state. Idempotency decisions come from the
ledger (ledger.py), the loss from scoring.py (docs/method.md §6).
"""
from __future__ import annotations

import math
import os
import time
from typing import Any, Callable, Dict, Optional, Tuple

from .checkpoints import default_checkpoint_path, replace_directory, resolve_inside
from .comm import Comm
from .config import TrainerConfig
from .errors import TrainerError
from .images import ImageCache
from .ledger import Ledger
from .metrics import Counters, format_metrics
from .policy import NonFiniteGradient, Policy, create_policy
from .schemas import FEATURES
from .scoring import prepare_micro_batch, score_micro_batch, score_tokens


def _step_totals(r: dict) -> Tuple[Optional[int], Optional[int]]:
    """``loss.step_sequences`` / ``loss.step_tokens`` (docs/method.md §6.3), checked against the
    micro-batch itself: a step total below what this micro-batch alone holds cannot be right."""
    loss = r['loss']
    totals = (loss.get('step_sequences'), loss.get('step_tokens'))
    own = (sum(len(g['completions']) for g in r['groups']),
           sum(len(c['token_ids']) for g in r['groups'] for c in g['completions']))
    problems = [{'field': f'loss.{name}', 'message': f"must be at least this micro-batch's {mine} {what}"}
                for name, total, mine, what in zip(('step_sequences', 'step_tokens'), totals, own, ('completions', 'completion tokens'))
                if total is not None and total < mine]
    if problems:
        raise TrainerError('TRAINER_REQUEST_INVALID', f"{problems[0]['field']} is below this micro-batch's own count: it is the whole step's total",
                           {'fields': problems})
    return totals


class TrainerService:
    def __init__(self, config: TrainerConfig, comm: Optional[Comm] = None,
                 policy_factory: Callable[[TrainerConfig, Comm], Policy] = create_policy) -> None:
        self.config = config
        self.comm = comm or Comm()
        self._policy_factory = policy_factory
        self.policy: Optional[Policy] = None
        self.ledger = Ledger()
        self.images = ImageCache(config.image_cache_bytes)
        self.counters = Counters()
        self.commands: Dict[str, Callable[[dict], dict]] = {
            'forward_backward': self.forward_backward,
            'optim_step': self.optim_step,
            'save_checkpoint': self.save_checkpoint,
            'load_checkpoint': self.load_checkpoint,
            'send_weights': self.send_weights,
            'weights_manifest': self.weights_manifest,
            'score_tokens': self.score_tokens,
        }

    def load(self) -> None:
        """Builds the model (minutes for a 7B VLM); health says "starting" until then."""
        self.policy = self._policy_factory(self.config, self.comm)

    def execute(self, name: str, payload: dict) -> dict:
        return self.commands[name](payload)

    @property
    def _policy(self) -> Policy:
        if self.policy is None:
            raise TrainerError('TRAINER_INTERNAL', 'the model is still loading')
        return self.policy

    def health(self) -> dict:
        return {
            'status': 'ok' if self.policy is not None else 'starting',
            'api_version': 'v1',
            'backend': self.config.backend,
            'model': self.config.model_name,
            'world_size': self.comm.world_size,
            **self.ledger.health(),
            'features': list(FEATURES),
        }

    def metrics(self) -> str:
        return format_metrics(self.counters, self.ledger.weight_version)

    # ---- training ----

    def forward_backward(self, r: dict) -> dict:
        policy = self._policy
        duplicate = self.ledger.duplicate_micro_batch(r['run'], r['step'], r['micro_batch'], r['micro_batches'])
        if duplicate is not None:
            self.counters.duplicate_micro_batches += 1
            return duplicate
        started = time.monotonic()
        totals = _step_totals(r)
        self.ledger.check_step_totals(r['step'], totals)
        images = self.images.resolve_groups(r['groups'])
        try:
            prepared = prepare_micro_batch(r, policy, images)
        except TrainerError as e:
            if e.code == 'TRAINER_PROMPT_MISMATCH':
                self.counters.prompt_mismatches += len(e.details['groups'])
            raise
        boundary = self.ledger.is_last_micro_batch(r['micro_batches'])
        try:
            scored = score_micro_batch(r, prepared, policy, self.comm, boundary)
            if not math.isfinite(scored.loss):
                raise ArithmeticError(f'the loss is {scored.loss}')
        except TrainerError:
            raise
        except Exception as e:
            # A partial gradient is in the accumulators: drop the whole step so it is resent cleanly.
            policy.zero_grad()
            self.ledger.discard_pending()
            raise TrainerError('TRAINER_INTERNAL', f'forward_backward failed: {e}; the pending step was dropped, resend its micro-batches',
                               {'step': r['step'], 'step_dropped': True}) from e
        if prepared.prompt_tokens_match is False:
            self.counters.prompt_mismatches += 1
        reply = {
            'run': r['run'], 'step': r['step'], 'micro_batch': r['micro_batch'], 'duplicate': False,
            'loss': scored.loss, 'clip_fraction': scored.clip_fraction, 'kl': scored.kl,
            'sequences': scored.sequences, 'tokens': scored.tokens,
            'masked': {'truncated': scored.masked_truncated, 'unscorable': scored.masked_unscorable},
            'prompt_tokens_match': scored.prompt_tokens_match,
        }
        self.ledger.record_micro_batch(r['step'], r['micro_batches'], reply, totals)
        c = self.counters
        c.micro_batches += 1
        c.sequences += scored.sequences
        c.tokens += scored.tokens
        c.masked_truncated += scored.masked_truncated
        c.masked_unscorable += scored.masked_unscorable
        c.last_loss, c.last_clip_fraction = scored.loss, scored.clip_fraction
        c.forward_backward_seconds += time.monotonic() - started
        return reply

    def optim_step(self, r: dict) -> dict:
        policy = self._policy
        duplicate = self.ledger.duplicate_step(r['run'], r['step'])
        if duplicate is not None:
            self.counters.duplicate_optim_steps += 1
            return duplicate
        started = time.monotonic()
        try:
            grad_norm = policy.optimizer_step(r['lr'], r.get('max_grad_norm'))
        except NonFiniteGradient as e:
            self.ledger.discard_pending()
            raise TrainerError('TRAINER_INTERNAL', f'the gradient norm of step {r["step"]} is {e}; the update was not applied and the step was dropped',
                               {'step': r['step'], 'step_dropped': True}) from e
        reply = self.ledger.record_step(r['run'], r['step'], grad_norm)
        self.counters.optim_steps += 1
        self.counters.last_grad_norm = grad_norm
        self.counters.optim_step_seconds += time.monotonic() - started
        return reply

    def score_tokens(self, r: dict) -> dict:
        """Read-only (``differad doctor``): per-token log-probs under the current weights, no gradient."""
        policy = self._policy
        images = self.images.resolve_groups([r])[0]
        return {'weight_version': self.ledger.weight_version, **score_tokens(r, policy, images)}

    # ---- checkpoints ----

    def save_checkpoint(self, r: dict) -> dict:
        policy = self._policy
        self.ledger.check_checkpoint_label(r['run'], r['step'])
        d = self.config.checkpoint_dir
        path = resolve_inside(d, r['path'], 'path') if r.get('path') else default_checkpoint_path(d, r['run'], r['step'])
        meta = {'run': r['run'], 'step': r['step'], 'weight_version': self.ledger.weight_version}
        policy.save_checkpoint(path, meta)
        self.counters.checkpoints_saved += 1
        return {**meta, 'path': path}

    def load_checkpoint(self, r: dict) -> dict:
        policy = self._policy
        d = self.config.checkpoint_dir
        path = resolve_inside(d, r['path'], 'path') if r.get('path') else default_checkpoint_path(d, r['run'], r['step'])
        meta = policy.load_checkpoint(path)
        self.ledger.restore(meta['run'], meta['step'], meta['weight_version'])
        return {'run': meta['run'], 'step': meta['step'], 'weight_version': meta['weight_version'], 'path': path}

    # ---- weight sync (docs/architecture.md §6) ----

    def _check_version(self, requested: int) -> int:
        version = self.ledger.weight_version
        if requested != version:
            raise TrainerError('TRAINER_VERSION_MISMATCH', f'this trainer holds weight version {version}, not {requested}',
                               {'expected': version, 'got': requested})
        return version

    def weights_manifest(self, r: dict) -> dict:
        """Names, dtypes and shapes of what an nccl send broadcasts, in its order (vLLM's update_info)."""
        from .weights import weight_manifest

        policy = self._policy
        version = self._check_version(r['version'])
        return {'version': version, **weight_manifest(policy)}

    def send_weights(self, r: dict) -> dict:
        policy = self._policy
        version = self._check_version(r['version'])
        backend = r['backend']
        if backend == 'nccl':
            from .weights import send_nccl

            sent = send_nccl(policy, self.comm, r.get('options') or {}, default_packed=self.config.nccl_packed)
            path: Optional[str] = None
        else:
            export: Callable[[Optional[str]], Any] = policy.export_weights if backend == 'disk' else policy.export_lora
            prefix = 'v' if backend == 'disk' else 'lora-v'
            d = self.config.weights_dir
            path = resolve_inside(d, r['path'], 'path') if r.get('path') else os.path.join(os.path.realpath(d), f'{prefix}{version:08d}')
            sent = replace_directory(path, export) if self.comm.rank == 0 else export(None)
            self.comm.barrier()
        self.counters.weights_sent += 1
        return {'backend': backend, 'version': version, 'path': path, 'bytes': sent if self.comm.rank == 0 else None}
