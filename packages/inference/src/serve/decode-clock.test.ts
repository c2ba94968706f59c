import { describe, expect, it } from 'vitest';
import { DecodeClock } from './decode-clock.js';

describe('DecodeClock (vLLM keep pause)', () => {
  it('a frozen request does not finish until the thaw, however long its time was', async () => {
    const clock = new DecodeClock();
    clock.freeze();
    let finished = false;
    const spent = clock.spend(0).then(() => (finished = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(finished).toBe(false);
    clock.thaw();
    await spent;
    expect(finished).toBe(true);
  });

  it('an aborted request stops waiting, frozen or not', async () => {
    const clock = new DecodeClock();
    clock.freeze();
    const abort = new AbortController();
    const spent = clock.spend(1_000, abort.signal);
    abort.abort(new Error('client gone'));
    await expect(spent).rejects.toThrow('client gone');
  });
});
