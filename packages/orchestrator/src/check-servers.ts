import type { TrainConfig } from '@differad/config';
import { DifferadError } from '@differad/core';
import { createVllmControl } from '@differad/inference';
import { createTrainerClient } from '@differad/trainer-client';

/** How long a server may take to answer the start-up check (ms). */
export const SERVER_CHECK_TIMEOUT_MS = 3_000;

async function checkEndpoint(url: string, model: string, timeoutMs: number): Promise<string | null> {
  const control = createVllmControl({ url, timeoutMs });
  try {
    const served = (await control.listModels()).map((m) => m.id);
    return served.includes(model) ? null : `${url} does not serve model "${model}" (it serves ${served.join(', ') || 'nothing'})`;
  } catch (error) {
    const message = (error as Error).message;
    return message.startsWith(url) ? message : `${url}: ${message}`;
  } finally {
    await control.close();
  }
}

/**
 * Checks the servers a config names by URL before anything is recorded or
 * started (a training run needs every one: each gets the weight sync). Every
 * inference endpoint must answer `GET /v1/models` with the configured model,
 * the trainer `GET /v1/health`, within `timeoutMs`. Throws
 * TRAIN_ENDPOINT_UNREACHABLE / TRAIN_TRAINER_UNREACHABLE naming each URL that
 * failed and why. Built-in CPU servers (`kind: cpu`) are started by the run
 * itself and are not checked here.
 */
export async function checkServers(config: TrainConfig, timeoutMs = SERVER_CHECK_TIMEOUT_MS): Promise<void> {
  const { policy, trainer } = config;
  const [endpointProblems, trainerProblem] = await Promise.all([
    policy.kind === 'endpoints'
      ? Promise.all(policy.endpoints.map((url) => checkEndpoint(url, policy.model, timeoutMs)))
      : Promise.resolve([]),
    trainer.kind === 'url' ? checkTrainer(trainer.url, timeoutMs) : Promise.resolve(null),
  ]);
  const failed = endpointProblems.filter((p): p is string => p !== null);
  if (failed.length > 0) {
    throw new DifferadError(
      'TRAIN_ENDPOINT_UNREACHABLE',
      `policy.endpoints: ${failed.length} of ${endpointProblems.length} inference server(s) not usable:\n${failed.map((p) => `  ${p}`).join('\n')}`,
      {
        details: { problems: failed },
      },
    );
  }
  if (trainerProblem !== null)
    throw new DifferadError('TRAIN_TRAINER_UNREACHABLE', `trainer.url: ${trainerProblem}`, { details: { problems: [trainerProblem] } });
}

async function checkTrainer(url: string, timeoutMs: number): Promise<string | null> {
  const client = createTrainerClient({ baseUrl: url, timeoutMs });
  try {
    await client.health();
    return null;
  } catch (error) {
    const message = (error as Error).message;
    return message.includes(url) ? message : `${url}: ${message}`;
  } finally {
    await client.close();
  }
}
