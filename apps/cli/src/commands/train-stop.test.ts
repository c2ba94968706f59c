import { describe, expect, it } from 'vitest';
import { createStopHandler } from './train.js';

describe('differad train: SIGINT/SIGTERM', () => {
  it('stops the run at the first signal and exits 130 at once at the second', () => {
    const controller = new AbortController();
    const err: string[] = [];
    const exits: number[] = [];
    const stop = createStopHandler(controller, { stderr: (s) => void err.push(s) }, (code) => void exits.push(code));
    stop();
    expect(controller.signal.aborted).toBe(true);
    expect(exits).toEqual([]);
    expect(err.join('')).toContain('the run stays resumable');
    stop();
    expect(exits).toEqual([130]);
    expect(err.join('')).toContain('second signal: exiting now');
  });
});
