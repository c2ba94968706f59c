/**
 * What resuming a run does with its step count. `steps` is the run's total
 * from then on; `from` the first step still to run (the completed count).
 * - `keep`: no new total asked for (a finished run stays finished), or the stored one;
 * - `extend` / `shorten`: a new total above the completed steps, to be stored with the run;
 * - `invalid`: a total that leaves no step to run; nothing of the run may change.
 */
export type ResumeSteps =
  | { readonly kind: 'keep' | 'extend' | 'shorten'; readonly steps: number; readonly from: number }
  | { readonly kind: 'invalid'; readonly reason: string };

/** The inputs of {@link decideResumeSteps}. */
export interface ResumeStepsInput {
  /** The run's stored `run.steps`. */
  readonly stored: number;
  /** Steps completed so far (0 for a run that completed none). */
  readonly completed: number;
  /** The total asked for when resuming (`--steps N`), if any. */
  readonly requested?: number;
}

/**
 * Decides the step count of a resumed run. A requested total must leave at
 * least one step to run: asking for no more steps than are done would either
 * do nothing or pretend to undo finished steps, so it is refused with the
 * completed count named.
 */
export function decideResumeSteps(input: ResumeStepsInput): ResumeSteps {
  const { stored, completed, requested } = input;
  if (requested === undefined) return { kind: 'keep', steps: stored, from: completed };
  if (!Number.isInteger(requested) || requested < 1)
    return { kind: 'invalid', reason: `a run needs a whole number of steps ≥ 1, got ${requested}` };
  if (requested <= completed) {
    return {
      kind: 'invalid',
      reason: `${completed} step(s) (0..${completed - 1}) are completed already, so a total of ${requested} leaves nothing to run; ask for more than ${completed}`,
    };
  }
  return { kind: requested === stored ? 'keep' : requested > stored ? 'extend' : 'shorten', steps: requested, from: completed };
}
