/**
 * A run's only inference server restarts in the middle of a run (a crash, a
 * container that was moved): it comes back with its starting weights. The
 * fleet refuses its first reply (it reports the starting version, not the
 * one the last sync loaded), ejects it, and when it answers `/health` again
 * loads the last sync's export into it and labels it, so the run goes on
 * where it was instead of stopping once its rollouts run out of attempts.
 *
 * Everything is the real run: `trainRun` on the test's Redis, the CPU policy
 * behind a proxy that restarts it on its port just before step 2's first
 * rollout goes through, and the CPU trainer. On-policy (the default), where
 * the rollouts of a step start after the sync before it, so the restart
 * falls between two syncs. (In the overlapped mode the CPU policy's reply
 * from its starting weights is left to the staleness rule, and the next
 * sync loads it; a sync that finds the only server down stops the run,
 * resumable, as the degraded-fleet rules say.)
 */
import { join } from 'node:path';
import { TrainConfigSchema } from '@differad/config';
import { CpuPolicyServer } from '@differad/cpu-policy';
import { type CpuTrainer, createCpuTrainer } from '@differad/cpu-trainer';
import { describe, expect, it } from 'vitest';
import { startRecordingProxy } from './recording-proxy.js';
import { trainInProcess, useCleanups, useTrainFixture } from './train-harness.js';

const STEPS = 4;
/** Step 2's rollouts meet the restarted server: the last sync before them loaded weight version 2. */
const RESTART_STEP = 2;

const fixture = useTrainFixture('differad-e2e-train-server-restart-', { redis: true });
const cleanup = useCleanups();

describe('differad train when its only inference server restarts in the middle of the run', () => {
  it('on-policy: loads the last sync’s weights into it again when it is back, and completes every step', async () => {
    const runId = 'restart-on-policy';
    let policy = await CpuPolicyServer.start({ seed: 5, slots: 8 });
    cleanup(() => policy.close());
    const port = policy.port;
    let restarted = false;
    const served = await startRecordingProxy(policy.url, {
      before: async ({ path, requestId }) => {
        if (restarted || path !== '/v1/chat/completions' || requestId !== `${runId}-s${RESTART_STEP}-p0-a0`) return;
        restarted = true;
        await policy.close();
        policy = await CpuPolicyServer.start({ seed: 5, slots: 8, port });
        expect(policy.currentPolicy.version).toBe(0);
      },
    });
    cleanup(() => served.close());
    const trainer: CpuTrainer = createCpuTrainer({ stateDir: join(fixture.dir, runId, 'trainer') });
    const { url: trainerUrl } = await trainer.start();
    cleanup(() => trainer.close());

    const config = TrainConfigSchema.parse({
      run: { id: runId, steps: STEPS, seed: 7, runsDir: join(fixture.dir, 'runs') },
      data: { train: fixture.data.train },
      policy: { kind: 'endpoints', endpoints: [served.url], model: 'differad-cpu', family: 'differad', frame: 'norm1000' },
      trainer: { kind: 'url', url: trainerUrl },
      grpo: { groupSize: 4, pairsPerStep: 3, maxResamples: 0, onExhausted: 'keep' },
    });
    const { result, lines } = await trainInProcess(fixture, config);

    expect(restarted).toBe(true);
    expect(result.state, lines.join('\n')).toBe('completed');
    expect(result.rows.map((r) => r.step)).toEqual([0, 1, 2, 3]);
    expect(trainer.stats()).toMatchObject({ optimSteps: STEPS, weightVersion: STEPS });
    // Its first reply after the restart came from the starting weights: refused, and the server ejected.
    expect(lines.filter((l) => l.startsWith(`warning: ${served.url} lost the weights of its last sync, ejected: `))).toHaveLength(1);
    // Back, it got the last sync's weights from that sync's export, labelled with their version.
    const healed = lines.filter((l) =>
      l.startsWith(`fleet: ${served.url} had lost the weights of its last sync (restarted?): loaded weight version`),
    );
    expect(healed).toHaveLength(1);
    expect(healed[0]).toMatch(/loaded weight version 2 again from .*policy-v2\.json$/);
    // The later syncs reached it too: it serves the run's last weights.
    expect(policy.currentPolicy.version).toBe(STEPS);
  }, 60_000);
});
