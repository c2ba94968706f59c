import { describe, expect, it } from 'vitest';
import { SlotScheduler } from './slot-scheduler.js';

describe('SlotScheduler', () => {
  it('admits first come first served while slots last and counts sequences running and waiting', () => {
    const s = new SlotScheduler(8);
    const admitted: string[] = [];
    const a = s.enqueue(4, () => admitted.push('a'));
    const b = s.enqueue(4, () => admitted.push('b'));
    const c = s.enqueue(2, () => admitted.push('c'));
    const d = s.enqueue(1, () => admitted.push('d'));
    // d fits but waits behind c: no overtaking.
    expect(admitted).toEqual(['a', 'b']);
    expect(s.gauges()).toEqual({ running: 8, waiting: 3 });
    a.release();
    expect(admitted).toEqual(['a', 'b', 'c', 'd']);
    expect([b.state(), c.state(), d.state()]).toEqual(['running', 'running', 'running']);
    expect(s.gauges()).toEqual({ running: 7, waiting: 0 });
  });

  it('gives a request wider than the server every slot, and drops a released waiting request', () => {
    const s = new SlotScheduler(4);
    const admitted: string[] = [];
    const wide = s.enqueue(16, () => admitted.push('wide'));
    const next = s.enqueue(1, () => admitted.push('next'));
    const gone = s.enqueue(1, () => admitted.push('gone'));
    gone.release();
    expect(s.gauges()).toEqual({ running: 16, waiting: 1 });
    wide.release();
    expect(admitted).toEqual(['wide', 'next']);
    expect(gone.state()).toBe('done');
    next.release();
    expect(s.gauges()).toEqual({ running: 0, waiting: 0 });
  });

  it('admits nothing while paused', () => {
    const s = new SlotScheduler(4);
    s.pause();
    let admitted = false;
    s.enqueue(1, () => (admitted = true));
    expect(admitted).toBe(false);
    s.resume();
    expect(admitted).toBe(true);
  });
});
