import { describe, expect, it } from 'vitest';
import { decideResumeSteps } from './resume-steps.js';

describe('decideResumeSteps', () => {
  it('keeps the stored total when none is asked for, a finished run included', () => {
    expect(decideResumeSteps({ stored: 30, completed: 12 })).toEqual({ kind: 'keep', steps: 30, from: 12 });
    expect(decideResumeSteps({ stored: 30, completed: 30 })).toEqual({ kind: 'keep', steps: 30, from: 30 });
  });

  it('keeps the stored total when the same one is asked for', () => {
    expect(decideResumeSteps({ stored: 30, completed: 12, requested: 30 })).toEqual({ kind: 'keep', steps: 30, from: 12 });
  });

  it('extends a finished run to the requested total, continuing after its last step', () => {
    expect(decideResumeSteps({ stored: 30, completed: 30, requested: 60 })).toEqual({ kind: 'extend', steps: 60, from: 30 });
  });

  it('extends an interrupted run too', () => {
    expect(decideResumeSteps({ stored: 5, completed: 2, requested: 8 })).toEqual({ kind: 'extend', steps: 8, from: 2 });
  });

  it('shortens a run to a total still above its completed steps', () => {
    expect(decideResumeSteps({ stored: 30, completed: 10, requested: 11 })).toEqual({ kind: 'shorten', steps: 11, from: 10 });
  });

  it('refuses a total that leaves nothing to run, naming the completed steps', () => {
    for (const requested of [4, 3, 1]) {
      const decision = decideResumeSteps({ stored: 4, completed: 4, requested });
      expect(decision.kind, `--steps ${requested}`).toBe('invalid');
      if (decision.kind === 'invalid')
        expect(decision.reason).toBe(
          `4 step(s) (0..3) are completed already, so a total of ${requested} leaves nothing to run; ask for more than 4`,
        );
    }
    expect(decideResumeSteps({ stored: 30, completed: 10, requested: 10 }).kind).toBe('invalid');
  });

  it('refuses a total that is not a whole number ≥ 1', () => {
    for (const requested of [0, -3, 2.5])
      expect(decideResumeSteps({ stored: 30, completed: 0, requested }).kind, String(requested)).toBe('invalid');
  });
});
