/** The run's length and cadences the due checks read (`run.steps`, `run.checkpointEvery`, `data.evalEvery`). */
export interface StepCadence {
  /** Steps of the run (the last one is `steps − 1`). */
  readonly steps: number;
  /** A checkpoint every this many steps; 0 saves none. */
  readonly checkpointEvery: number;
  /** A held-out evaluation every this many steps (≥ 1). */
  readonly evalEvery: number;
}

/** Whether `step` (0-based) ends a period of `every` steps or is the run's last step. */
function endsPeriod(step: number, every: number, steps: number): boolean {
  return (step + 1) % every === 0 || step + 1 === steps;
}

/**
 * Whether the trainer saves a checkpoint after `step`: after every
 * `checkpointEvery`-th step and after the run's last one, so the run can
 * always be resumed where it ended; never when `checkpointEvery` is 0
 * (docs/architecture.md §4.4 replays from the last saved one).
 */
export function isCheckpointDue(step: number, cadence: Pick<StepCadence, 'steps' | 'checkpointEvery'>): boolean {
  return cadence.checkpointEvery > 0 && endsPeriod(step, cadence.checkpointEvery, cadence.steps);
}

/**
 * Whether the held-out set is evaluated after `step`: after every
 * `evalEvery`-th step and after the run's last one, so the run's summary has
 * the final policy's figures. The evaluation before training is not a step's
 * (the coordinator runs it before step 0).
 */
export function isHeldOutEvalDue(step: number, cadence: Pick<StepCadence, 'steps' | 'evalEvery'>): boolean {
  return endsPeriod(step, cadence.evalEvery, cadence.steps);
}
