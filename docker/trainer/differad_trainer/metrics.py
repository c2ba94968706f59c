"""Prometheus text exposition (format 0.0.4) of the trainer.

The names are part of the trainer contract and equal the CPU trainer's
(packages/cpu-trainer/src/metrics/trainer-metrics.ts): every backend publishes
``differad_trainer_optim_steps_total``, ``differad_trainer_micro_batches_total{duplicate}``
and ``differad_trainer_weight_version``. The Python trainer adds prompt
mismatches and the backend's time per call.
"""
from __future__ import annotations

import dataclasses
from typing import List, Optional, Tuple, Union

Sample = Tuple[str, Optional[Union[int, float]]]


@dataclasses.dataclass
class Counters:
    optim_steps: int = 0
    duplicate_optim_steps: int = 0
    micro_batches: int = 0
    duplicate_micro_batches: int = 0
    sequences: int = 0
    tokens: int = 0
    masked_truncated: int = 0
    masked_unscorable: int = 0
    prompt_mismatches: int = 0
    last_loss: Optional[float] = None
    last_clip_fraction: Optional[float] = None
    last_grad_norm: Optional[float] = None
    checkpoints_saved: int = 0
    weights_sent: int = 0
    request_errors: int = 0
    forward_backward_seconds: float = 0.0
    optim_step_seconds: float = 0.0


def _metric(name: str, help_text: str, kind: str, samples: List[Sample]) -> str:
    lines = [f'# HELP {name} {help_text}', f'# TYPE {name} {kind}']
    lines += [f'{name}{labels} {value}' for labels, value in samples if value is not None]
    return '\n'.join(lines)


def format_metrics(c: Counters, weight_version: int) -> str:
    return '\n'.join([
        _metric('differad_trainer_optim_steps_total', 'Optimizer steps applied.', 'counter', [('', c.optim_steps)]),
        _metric('differad_trainer_duplicate_optim_steps_total', 'optim_step calls answered as duplicates.', 'counter', [('', c.duplicate_optim_steps)]),
        _metric('differad_trainer_micro_batches_total', 'forward_backward calls, by whether they were duplicates.', 'counter', [
            ('{duplicate="false"}', c.micro_batches), ('{duplicate="true"}', c.duplicate_micro_batches)]),
        _metric('differad_trainer_sequences_total', 'Completions that entered the loss.', 'counter', [('', c.sequences)]),
        _metric('differad_trainer_tokens_total', 'Completion tokens that entered the loss.', 'counter', [('', c.tokens)]),
        _metric('differad_trainer_masked_total', 'Completions left out of the loss, by reason.', 'counter', [
            ('{reason="truncated"}', c.masked_truncated), ('{reason="unscorable"}', c.masked_unscorable)]),
        _metric('differad_trainer_prompt_mismatches_total', "Groups whose prompt tokenization differed from the server's.", 'counter', [('', c.prompt_mismatches)]),
        _metric('differad_trainer_weight_version', 'Current weight version.', 'gauge', [('', weight_version)]),
        _metric('differad_trainer_last_loss', 'Loss of the last applied micro-batch.', 'gauge', [('', c.last_loss)]),
        _metric('differad_trainer_last_clip_fraction', 'Clip fraction of the last applied micro-batch.', 'gauge', [('', c.last_clip_fraction)]),
        _metric('differad_trainer_last_grad_norm', 'Gradient norm of the last optimizer step.', 'gauge', [('', c.last_grad_norm)]),
        _metric('differad_trainer_checkpoints_saved_total', 'Checkpoints written.', 'counter', [('', c.checkpoints_saved)]),
        _metric('differad_trainer_weights_sent_total', 'Weight sends completed.', 'counter', [('', c.weights_sent)]),
        _metric('differad_trainer_request_errors_total', 'Requests answered with an error status.', 'counter', [('', c.request_errors)]),
        _metric('differad_trainer_seconds_total', 'Time spent in the backend, by call.', 'counter', [
            ('{call="forward_backward"}', round(c.forward_backward_seconds, 6)), ('{call="optim_step"}', round(c.optim_step_seconds, 6))]),
    ]) + '\n'
