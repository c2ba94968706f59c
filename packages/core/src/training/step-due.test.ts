import { describe, expect, it } from 'vitest';
import { isCheckpointDue, isHeldOutEvalDue } from './step-due.js';

/** The steps of a run of `steps` steps for which `due` holds. */
const dueSteps = (steps: number, due: (step: number) => boolean) => Array.from({ length: steps }, (_, s) => s).filter(due);

describe('isCheckpointDue', () => {
  it.each([
    { steps: 5, every: 1, due: [0, 1, 2, 3, 4], name: 'every step' },
    { steps: 6, every: 3, due: [2, 5], name: 'every 3rd step, the last one on the cadence' },
    { steps: 7, every: 3, due: [2, 5, 6], name: 'every 3rd step and the last step off the cadence' },
    { steps: 2, every: 5, due: [1], name: 'a cadence longer than the run: only the last step' },
    { steps: 1, every: 2, due: [0], name: 'a one-step run: step 0 is the last' },
    { steps: 5, every: 0, due: [], name: 'checkpointEvery 0: none, not even the last step' },
  ])('$name ($steps steps, every $every) → $due', ({ steps, every, due }) => {
    expect(dueSteps(steps, (s) => isCheckpointDue(s, { steps, checkpointEvery: every }))).toEqual(due);
  });
});

describe('isHeldOutEvalDue', () => {
  it.each([
    { steps: 5, every: 1, due: [0, 1, 2, 3, 4], name: 'every step, step 0 included' },
    { steps: 5, every: 2, due: [1, 3, 4], name: 'every 2nd step (not step 0) and the last step' },
    { steps: 4, every: 2, due: [1, 3], name: 'the last step on the cadence counts once' },
    { steps: 3, every: 10, due: [2], name: 'a cadence longer than the run: only the last step' },
    { steps: 1, every: 10, due: [0], name: 'a one-step run: step 0 is the last' },
  ])('$name ($steps steps, every $every) → $due', ({ steps, every, due }) => {
    expect(dueSteps(steps, (s) => isHeldOutEvalDue(s, { steps, evalEvery: every }))).toEqual(due);
  });

  it('is due at the last step of a resumed run whose total grew (the total at the time of the step counts)', () => {
    expect(isHeldOutEvalDue(4, { steps: 5, evalEvery: 10 })).toBe(true);
    expect(isHeldOutEvalDue(4, { steps: 8, evalEvery: 10 })).toBe(false);
  });
});
