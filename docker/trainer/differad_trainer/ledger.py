"""The trainer's position and its idempotency rules, with no tensors in sight.

Mirrors packages/cpu-trainer/src/training/training-state.ts: a micro-batch is
applied once per (run, step, micro_batch) and a step once per (run, step);
any step at or before the last applied one is a duplicate; one step
accumulates at a time. The ledger only decides; the service does the work.
"""
from __future__ import annotations

import dataclasses
from typing import Dict, List, Optional, Tuple

from .errors import TrainerError


@dataclasses.dataclass
class Pending:
    step: int
    expected: int
    #: The step's ``loss.step_sequences`` / ``loss.step_tokens`` (None: not given); every micro-batch must agree.
    totals: Tuple[Optional[int], Optional[int]] = (None, None)
    replies: Dict[int, dict] = dataclasses.field(default_factory=dict)
    sequences: int = 0


@dataclasses.dataclass
class Applied:
    step: int
    replies: Dict[int, dict]
    optim: dict


def forgotten_reply(run: str, step: int, micro_batch: int) -> dict:
    """A duplicate of a micro-batch the trainer no longer holds: numbers null, counts 0."""
    return {
        'run': run, 'step': step, 'micro_batch': micro_batch, 'duplicate': True, 'loss': None,
        'clip_fraction': None, 'kl': None, 'sequences': 0, 'tokens': 0,
        'masked': {'truncated': 0, 'unscorable': 0}, 'prompt_tokens_match': None,
    }


class Ledger:
    """run / last applied step / weight version / pending step, and the replies replayed to duplicates."""

    def __init__(self, weight_version: int = 0) -> None:
        self.run: Optional[str] = None
        self.last_step: Optional[int] = None
        self.weight_version = weight_version
        self.pending: Optional[Pending] = None
        self.applied: Optional[Applied] = None

    def health(self) -> dict:
        p = self.pending
        return {
            'run': self.run,
            'step': self.last_step,
            'weight_version': self.weight_version,
            'pending': None if p is None else {'step': p.step, 'received': len(p.replies), 'expected': p.expected},
        }

    def claim_run(self, run: str) -> None:
        if self.run is None:
            self.run = run
        elif self.run != run:
            raise TrainerError('TRAINER_RUN_MISMATCH', f'this trainer is training run "{self.run}", not "{run}"', {'expected': self.run, 'got': run})

    def duplicate_micro_batch(self, run: str, step: int, micro_batch: int, micro_batches: int) -> Optional[dict]:
        """The reply to replay when (run, step, micro_batch) was applied; None when it is new.
        Raises TRAINER_STEP_CONFLICT when another step is pending or the micro-batch count changed."""
        self.claim_run(run)
        if self.last_step is not None and step <= self.last_step:
            known = self.applied.replies.get(micro_batch) if self.applied and self.applied.step == step else None
            return {**known, 'duplicate': True} if known else forgotten_reply(run, step, micro_batch)
        p = self.pending
        if p is not None and p.step != step:
            raise TrainerError('TRAINER_STEP_CONFLICT', f'step {p.step} has micro-batches pending; call optim_step for it before sending step {step}', {'pending': p.step})
        if p is not None and p.expected != micro_batches:
            raise TrainerError('TRAINER_STEP_CONFLICT', f'step {step} was started with {p.expected} micro-batches, this request says {micro_batches}', {'expected': p.expected})
        if p is not None and micro_batch in p.replies:
            return {**p.replies[micro_batch], 'duplicate': True}
        return None

    def check_step_totals(self, step: int, totals: Tuple[Optional[int], Optional[int]]) -> None:
        """The step totals a micro-batch normalizes by (docs/method.md §6.3) must be those its step started with."""
        p = self.pending
        if p is not None and p.totals != totals:
            show = lambda t: f'step_sequences {t[0]}, step_tokens {t[1]}'  # noqa: E731
            raise TrainerError('TRAINER_STEP_CONFLICT', f'step {step} was started with {show(p.totals)}, this request says {show(totals)}',
                               {'expected': {'step_sequences': p.totals[0], 'step_tokens': p.totals[1]}})

    def is_last_micro_batch(self, micro_batches: int) -> bool:
        """Whether the next new micro-batch completes the step (DeepSpeed's accumulation boundary)."""
        received = len(self.pending.replies) if self.pending else 0
        return received + 1 == micro_batches

    def record_micro_batch(self, step: int, micro_batches: int, reply: dict,
                           totals: Tuple[Optional[int], Optional[int]] = (None, None)) -> None:
        if self.pending is None:
            self.pending = Pending(step=step, expected=micro_batches, totals=totals)
        self.pending.replies[reply['micro_batch']] = reply
        self.pending.sequences += reply['sequences']

    def discard_pending(self) -> None:
        """A micro-batch failed midway: its partial gradient poisons the step, so the step starts over."""
        self.pending = None

    def duplicate_step(self, run: str, step: int) -> Optional[dict]:
        """The optim_step reply to replay for an applied step; None when the step is ready to apply.
        Raises TRAINER_STEP_INCOMPLETE (details.missing) when micro-batches are missing."""
        self.claim_run(run)
        if self.last_step is not None and step <= self.last_step:
            if self.applied and self.applied.step == step:
                return {**self.applied.optim, 'applied': False, 'duplicate': True}
            return {
                'run': run, 'step': step, 'applied': False, 'duplicate': True, 'grad_norm': None,
                'weight_version': self.weight_version, 'micro_batches': 0, 'sequences': 0,
            }
        p = self.pending
        if p is None or p.step != step:
            raise TrainerError('TRAINER_STEP_INCOMPLETE', f'step {step} has no micro-batches', {'missing': None, 'pending': p.step if p else None})
        missing: List[int] = [i for i in range(p.expected) if i not in p.replies]
        if missing:
            listed = ', '.join(map(str, missing[:20]))
            raise TrainerError('TRAINER_STEP_INCOMPLETE', f'step {step} is missing micro-batches {listed} of {p.expected}', {'missing': missing})
        return None

    def record_step(self, run: str, step: int, grad_norm: float) -> dict:
        p = self.pending
        assert p is not None and p.step == step
        self.weight_version += 1
        self.last_step = step
        reply = {
            'run': run, 'step': step, 'applied': True, 'duplicate': False, 'grad_norm': grad_norm,
            'weight_version': self.weight_version, 'micro_batches': p.expected, 'sequences': p.sequences,
        }
        self.applied = Applied(step=step, replies=p.replies, optim=reply)
        self.pending = None
        return reply

    def check_checkpoint_label(self, run: str, step: int) -> None:
        """A checkpoint is labelled with the last applied step; anything else is TRAINER_STEP_CONFLICT."""
        if self.run != run or self.last_step != step:
            at = 'none' if self.run is None else f'({self.run}, step {self.last_step if self.last_step is not None else "none"})'
            raise TrainerError('TRAINER_STEP_CONFLICT', f'cannot label a checkpoint ({run}, step {step}): the last applied step is {at}', {'run': self.run, 'step': self.last_step})

    def restore(self, run: str, step: int, weight_version: int) -> None:
        """A loaded checkpoint's position; pending micro-batches and remembered replies are dropped."""
        self.run, self.last_step, self.weight_version = run, step, weight_version
        self.pending = None
        self.applied = None
