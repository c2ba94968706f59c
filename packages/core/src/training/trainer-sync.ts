/**
 * Where a trainer says it is (`GET /v1/health`): the run it trains, the last
 * step it applied, its weight version and the step it is accumulating.
 */
export interface TrainerPosition {
  readonly run: string | null;
  readonly step: number | null;
  readonly weightVersion: number;
  readonly pendingStep: number | null;
}

/** A checkpoint the run store recorded as saved: the step it is labelled with and its weight version. */
export interface SavedCheckpoint {
  readonly step: number;
  readonly weightVersion: number;
}

/** Where the run store (the source of truth) says the run is. */
export interface StorePosition {
  /** The last completed step; null before the first. */
  readonly lastCompletedStep: number | null;
  /** The weight version after that step. */
  readonly weightVersion: number;
  /** The last checkpoint saved at or before `lastCompletedStep`; null when none was. */
  readonly checkpoint: SavedCheckpoint | null;
}

/** The inputs of {@link decideTrainerSync}. */
export interface TrainerSyncInput {
  readonly runId: string;
  readonly store: StorePosition;
  readonly trainer: TrainerPosition;
  /**
   * The next step's job exists already and will run on (a restarted
   * coordinator waiting on it): the trainer may then have its micro-batches
   * pending or even its update applied, and that job's retry replays them.
   * False when the step is about to be enqueued afresh.
   */
  readonly continuing: boolean;
}

/**
 * What the coordinator does before a step:
 * - `in-sync`: run it; `syncInitial` (before step 0) first pushes the
 *   trainer's starting weights (`version`) to the inference servers, so a
 *   server that served another run samples from this run's weights;
 * - `restore`: load `checkpoint` (null: the trainer is fresh, at its starting
 *   weights), push those weights to the servers, rewind the run store to it
 *   and replay from step `from`;
 * - `fail`: nothing can be restored; stop with a resumable error.
 */
export type TrainerSync =
  | { readonly kind: 'in-sync'; readonly syncInitial: boolean; readonly version: number }
  | { readonly kind: 'restore'; readonly checkpoint: SavedCheckpoint | null; readonly from: number; readonly reason: string }
  | { readonly kind: 'fail'; readonly code: 'TRAIN_TRAINER_FOREIGN_RUN' | 'TRAIN_TRAINER_STATE_LOST'; readonly reason: string };

function describeTrainer(t: TrainerPosition): string {
  if (t.run === null && t.step === null) return `fresh (no run, weight version ${t.weightVersion})`;
  const pending = t.pendingStep === null ? '' : `, step ${t.pendingStep} pending`;
  return `at run ${t.run ?? 'none'}, step ${t.step ?? 'none'}, weight version ${t.weightVersion}${pending}`;
}

function describeStore(s: StorePosition): string {
  return s.lastCompletedStep === null ? 'no step completed' : `step ${s.lastCompletedStep} completed at weight version ${s.weightVersion}`;
}

/** Whether the trainer holds exactly what the run store says, give or take the next step's job it may have begun. */
function isInStep(input: TrainerSyncInput): boolean {
  const { runId, store, trainer, continuing } = input;
  const next = store.lastCompletedStep === null ? 0 : store.lastCompletedStep + 1;
  const pendingOk = trainer.pendingStep === null || (continuing && trainer.pendingStep === next);
  if (store.lastCompletedStep === null) {
    // Before step 0 the store cannot know the trainer's starting version (a --init policy has its own).
    if (trainer.run !== null && trainer.run !== runId) return false;
    if (trainer.step === null) return pendingOk;
    return continuing && trainer.run === runId && trainer.step === 0 && trainer.pendingStep === null;
  }
  if (trainer.run !== runId) return false;
  if (trainer.step === store.lastCompletedStep && trainer.weightVersion === store.weightVersion) return pendingOk;
  // The next step's optim_step was applied but the step is not recorded: its running job replays the stored replies.
  return continuing && trainer.step === next && trainer.weightVersion === store.weightVersion + 1 && trainer.pendingStep === null;
}

/**
 * Compares the trainer's position with the run store's before a step
 * (docs/architecture.md §4.4). The run store is the source of truth: a
 * trainer that restarted (fresh), lost or gained a step, or holds a stale
 * pending step is put back on the last saved checkpoint and the steps after
 * it are replayed; a trainer training another run is never taken over.
 */
export function decideTrainerSync(input: TrainerSyncInput): TrainerSync {
  const { runId, store, trainer } = input;
  if (isInStep(input)) return { kind: 'in-sync', syncInitial: store.lastCompletedStep === null, version: trainer.weightVersion };
  const reason = `the trainer is ${describeTrainer(trainer)}; the run store says ${describeStore(store)}`;
  if (trainer.run !== null && trainer.run !== runId) {
    return {
      kind: 'fail',
      code: 'TRAIN_TRAINER_FOREIGN_RUN',
      reason: `${reason}: it trains another run; give run ${runId} a trainer of its own (or restart this one)`,
    };
  }
  if (store.checkpoint !== null) return { kind: 'restore', checkpoint: store.checkpoint, from: store.checkpoint.step + 1, reason };
  const fresh = trainer.run === null && trainer.step === null && trainer.pendingStep === null;
  if (fresh) return { kind: 'restore', checkpoint: null, from: 0, reason };
  return {
    kind: 'fail',
    code: 'TRAIN_TRAINER_STATE_LOST',
    reason: `${reason}, and no checkpoint was saved to restore; restart the trainer (it then starts from its initial weights)`,
  };
}

/** What the step job is about to train: step `step` on groups sampled from `weightVersion`. */
export interface StepAtTrainer {
  readonly runId: string;
  readonly step: number;
  readonly weightVersion: number;
}

/**
 * The step job's own check, right before its micro-batches: null when the
 * trainer is where this step expects it (the previous step applied, or this
 * step applied by an earlier try of the same job), else why not. A trainer
 * that restarted between the coordinator's check and the step would
 * otherwise train the step on its starting weights.
 */
export function checkTrainerAtStep(at: StepAtTrainer, trainer: TrainerPosition): string | null {
  const ok = (() => {
    if (trainer.pendingStep !== null && trainer.pendingStep !== at.step) return false;
    if (at.step === 0) {
      if (trainer.run !== null && trainer.run !== at.runId) return false;
      return trainer.step === null || (trainer.run === at.runId && trainer.step === 0);
    }
    if (trainer.run !== at.runId) return false;
    if (trainer.step === at.step - 1) return trainer.weightVersion === at.weightVersion;
    return trainer.step === at.step && trainer.weightVersion === at.weightVersion + 1 && trainer.pendingStep === null;
  })();
  if (ok) return null;
  const expected =
    at.step === 0
      ? 'fresh or at this run before its first step'
      : `at run ${at.runId}, step ${at.step - 1}, weight version ${at.weightVersion}`;
  return `step ${at.step} of run ${at.runId} expects the trainer ${expected}, but it is ${describeTrainer(trainer)}`;
}
