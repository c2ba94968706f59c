import { join } from 'node:path';
import type { TrainConfig } from '@differad/config';
import { CpuPolicyServer, loadCpuPolicy } from '@differad/cpu-policy';
import { createCpuTrainer } from '@differad/cpu-trainer';
import type { ResolvedTrainConfig } from './context-factory.js';

/** Servers `differad train` started itself for a `cpu` policy or trainer; stopped with the run. */
export interface LocalServers {
  readonly config: ResolvedTrainConfig;
  close(): Promise<void>;
}

/**
 * Starts the built-in CPU policy servers and CPU trainer the config asks for
 * (on 127.0.0.1, free ports) and returns the config with their URLs, as
 * workers in any process will read it from Redis.
 */
export async function startLocalServers(config: TrainConfig, runDir: string, log: (line: string) => void): Promise<LocalServers> {
  const closers: (() => Promise<void>)[] = [];
  try {
    let policy: ResolvedTrainConfig['policy'];
    if (config.policy.kind === 'cpu') {
      const initial = config.policy.init ? await loadCpuPolicy(config.policy.init) : undefined;
      const servers: CpuPolicyServer[] = [];
      for (let i = 0; i < config.policy.servers; i++) {
        const server = await CpuPolicyServer.start({ seed: config.run.seed + i, ...(initial ? { policy: initial } : {}) });
        closers.push(() => server.close());
        servers.push(server);
      }
      log(`CPU policy servers: ${servers.map((s) => s.url).join(', ')}`);
      policy = {
        kind: 'endpoints',
        endpoints: servers.map((s) => s.url),
        model: 'differad-cpu',
        family: 'differad',
        frame: 'norm1000',
        syncBackend: 'disk',
        requestTimeoutMs: config.policy.requestTimeoutMs,
        minServers: config.policy.minServers,
      };
    } else {
      policy = config.policy;
    }
    let trainer: ResolvedTrainConfig['trainer'];
    if (config.trainer.kind === 'cpu') {
      // The trainer starts from the policy the servers serve: before step 0 its weights are pushed to them.
      const initial = config.policy.kind === 'cpu' && config.policy.init ? await loadCpuPolicy(config.policy.init) : undefined;
      const cpu = createCpuTrainer({ stateDir: join(runDir, 'trainer'), ...(initial ? { initialPolicy: initial } : {}) });
      const { url } = await cpu.start();
      closers.push(() => cpu.close());
      log(`CPU trainer: ${url}`);
      trainer = { kind: 'url', url };
    } else {
      trainer = config.trainer;
    }
    return {
      config: { ...config, policy, trainer },
      async close() {
        for (const close of closers.reverse()) await close().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    throw error;
  }
}
