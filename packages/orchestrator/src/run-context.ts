import type { TrainConfig } from '@differad/config';
import type { ImageSize, ManifestRecord, PairPrompt, ScoreSettings } from '@differad/core';
import type { createFramePreparer } from '@differad/images';
import type { Fleet } from '@differad/inference';
import type { DifferadMetrics } from '@differad/metrics';
import type { CatalogQueues } from '@differad/queue';
import type { FleetPoolStore, RunStore } from '@differad/queue';
import type { TrainerClient } from '@differad/trainer-client';
import type { Redis } from 'ioredis';
import type { WeightSyncTarget } from './weight-sync.js';

/** Everything the workers of one run share; built once by the composition root. */
export interface RunContext {
  readonly runId: string;
  readonly config: TrainConfig;
  /** Training pairs in manifest order; a step's pair index points into this list. */
  readonly records: readonly ManifestRecord[];
  /** Each pair id's position in `records` (pair-index.ts: `recordOf`). */
  readonly pairIndex: ReadonlyMap<string, number>;
  /** Resolves a manifest path (relative to the training manifest) to a file path. */
  readonly resolvePath: (entry: string) => string;
  readonly preparer: ReturnType<typeof createFramePreparer>;
  readonly fleet: Fleet;
  readonly trainer: TrainerClient;
  readonly queues: CatalogQueues;
  /** A producer connection for the run's own keys (groups, completions). */
  readonly redis: Redis;
  readonly store: RunStore;
  readonly score: ScoreSettings;
  /**
   * The prompt of a pair in the run's family and frame, for its target as
   * sent (`target`: the prepared size), drawn from the run's pool by
   * (seed, pair id): core's toPairPrompt (docs/method.md §7).
   */
  readonly prompt: (pairId: string, target: ImageSize, seed: number | string) => PairPrompt;
  readonly syncTargets: readonly WeightSyncTarget[];
  /** The run's rollout pool in Redis: who holds the current weights (docs/architecture.md §6.1). */
  readonly pools: FleetPoolStore;
  /** Held-out evaluation (when the config names an eval manifest), on `servers` (default: every one). */
  readonly evaluate: ((step: number, servers?: readonly string[]) => Promise<Record<string, number | null>>) | null;
  /** SHA-256 of images the trainer has received with their bytes: later groups send only the hash. */
  readonly imagesAtTrainer: Set<string>;
  /** Folder of this run: metrics.jsonl, trainer state. */
  readonly runDir: string;
  readonly log: (line: string) => void;
  /** The process's Prometheus metrics (`--metrics-port`); absent, nothing is recorded. */
  readonly metrics?: DifferadMetrics;
}
