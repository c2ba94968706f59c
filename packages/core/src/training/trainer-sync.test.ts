import { describe, expect, it } from 'vitest';
import { checkTrainerAtStep, decideTrainerSync, type StorePosition, type TrainerPosition } from './trainer-sync.js';

const trainer = (run: string | null, step: number | null, weightVersion: number, pendingStep: number | null = null): TrainerPosition => ({
  run,
  step,
  weightVersion,
  pendingStep,
});
const store = (lastCompletedStep: number | null, weightVersion: number, checkpoint: StorePosition['checkpoint'] = null): StorePosition => ({
  lastCompletedStep,
  weightVersion,
  checkpoint,
});
const decide = (s: StorePosition, t: TrainerPosition, continuing = false) =>
  decideTrainerSync({ runId: 'r', store: s, trainer: t, continuing });

describe('decideTrainerSync', () => {
  it('before step 0, takes a fresh trainer at any starting version and pushes its weights to the servers', () => {
    expect(decide(store(null, 0), trainer(null, null, 0))).toEqual({ kind: 'in-sync', syncInitial: true, version: 0 });
    expect(decide(store(null, 0), trainer(null, null, 3))).toEqual({ kind: 'in-sync', syncInitial: true, version: 3 });
    expect(decide(store(null, 0), trainer('r', null, 0))).toEqual({ kind: 'in-sync', syncInitial: true, version: 0 });
  });

  it('continues when the trainer holds exactly the last completed step, with no initial push', () => {
    expect(decide(store(4, 5, { step: 4, weightVersion: 5 }), trainer('r', 4, 5))).toEqual({
      kind: 'in-sync',
      syncInitial: false,
      version: 5,
    });
  });

  it('lets a job that exists already finish the step the trainer began or applied', () => {
    expect(decide(store(4, 5), trainer('r', 4, 5, 5), true).kind).toBe('in-sync');
    expect(decide(store(4, 5), trainer('r', 5, 6), true).kind).toBe('in-sync');
    expect(decide(store(null, 0), trainer('r', null, 0, 0), true).kind).toBe('in-sync');
    expect(decide(store(null, 0), trainer('r', 0, 1), true).kind).toBe('in-sync');
  });

  it('restores the last saved checkpoint when the trainer restarted (fresh) after steps were completed', () => {
    const d = decide(store(15, 16, { step: 15, weightVersion: 16 }), trainer(null, null, 0));
    expect(d).toEqual({
      kind: 'restore',
      checkpoint: { step: 15, weightVersion: 16 },
      from: 16,
      reason: 'the trainer is fresh (no run, weight version 0); the run store says step 15 completed at weight version 16',
    });
  });

  it('replays from the last SAVED checkpoint, not the last step, with checkpoints every few steps', () => {
    expect(decide(store(4, 5, { step: 2, weightVersion: 3 }), trainer(null, null, 0))).toMatchObject({
      kind: 'restore',
      checkpoint: { step: 2, weightVersion: 3 },
      from: 3,
    });
  });

  it('restores when the trainer is behind, ahead, or has a stale pending step of a job that is enqueued afresh', () => {
    const s = store(4, 5, { step: 3, weightVersion: 4 });
    for (const t of [trainer('r', 3, 4), trainer('r', 5, 6), trainer('r', 4, 5, 5), trainer('r', 4, 9)]) {
      expect(decide(s, t), JSON.stringify(t)).toMatchObject({ kind: 'restore', from: 4 });
    }
  });

  it('replays from step 0 on a fresh trainer when no checkpoint was saved', () => {
    expect(decide(store(2, 3), trainer(null, null, 0))).toMatchObject({ kind: 'restore', checkpoint: null, from: 0 });
  });

  it('fails, never takes over, when the trainer trains another run', () => {
    for (const s of [store(null, 0), store(4, 5, { step: 4, weightVersion: 5 })]) {
      const d = decide(s, trainer('other', 7, 8));
      expect(d.kind).toBe('fail');
      if (d.kind === 'fail') {
        expect(d.code).toBe('TRAIN_TRAINER_FOREIGN_RUN');
        expect(d.reason).toContain('the trainer is at run other, step 7, weight version 8');
      }
    }
  });

  it('fails when the trainer lost state and there is nothing to restore it from', () => {
    const d = decide(store(2, 3), trainer('r', 0, 1));
    expect(d).toMatchObject({ kind: 'fail', code: 'TRAIN_TRAINER_STATE_LOST' });
    if (d.kind === 'fail') expect(d.reason).toContain('no checkpoint was saved');
  });
});

describe('checkTrainerAtStep', () => {
  const at = { runId: 'r', step: 3, weightVersion: 3 };

  it('accepts the previous step applied, this step pending, or this step applied by an earlier try', () => {
    expect(checkTrainerAtStep(at, trainer('r', 2, 3))).toBeNull();
    expect(checkTrainerAtStep(at, trainer('r', 2, 3, 3))).toBeNull();
    expect(checkTrainerAtStep(at, trainer('r', 3, 4))).toBeNull();
  });

  it('refuses a restarted (fresh) trainer, another run, or another position', () => {
    expect(checkTrainerAtStep(at, trainer(null, null, 0))).toBe(
      'step 3 of run r expects the trainer at run r, step 2, weight version 3, but it is fresh (no run, weight version 0)',
    );
    for (const t of [trainer('x', 2, 3), trainer('r', 1, 2), trainer('r', 2, 4), trainer('r', 3, 4, 4), trainer('r', 2, 3, 2)]) {
      expect(checkTrainerAtStep(at, t), JSON.stringify(t)).not.toBeNull();
    }
  });

  it('at step 0 accepts a fresh trainer at any starting version, not another run', () => {
    const first = { runId: 'r', step: 0, weightVersion: 0 };
    expect(checkTrainerAtStep(first, trainer(null, null, 3))).toBeNull();
    expect(checkTrainerAtStep(first, trainer('r', 0, 4))).toBeNull();
    expect(checkTrainerAtStep(first, trainer('x', null, 0))).not.toBeNull();
    expect(checkTrainerAtStep(first, trainer('r', 1, 2))).not.toBeNull();
  });
});
