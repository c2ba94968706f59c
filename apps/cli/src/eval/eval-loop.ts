import { isDifferadError, type ManifestRecord } from '@differad/core';
import type { Fleet } from '@differad/inference';
import type { PairEvaluation } from '@differad/orchestrator';
import type { PairAsker } from './pair-request.js';
import type { PredictionLog } from './prediction-log.js';

/** How many requests to keep in flight: a fixed number, or `auto` (the fleet's adaptive limits). */
export type EvalConcurrency = 'auto' | number;

/** What the loop needs. */
export interface EvalLoopDeps {
  /** Records still to answer, in order: pulled one at a time as a slot frees, so they need not be in memory. */
  readonly records: AsyncIterable<ManifestRecord>;
  /** Asks and scores one record (evaluatePair, the one evaluation path). */
  readonly ask: PairAsker;
  readonly fleet: Fleet;
  readonly log: PredictionLog;
  readonly concurrency: EvalConcurrency;
  /** Ctrl-C: no new request is issued and those in flight are abandoned. */
  readonly signal: AbortSignal;
  /** Called once per answered record, after its line is written, with its answer and score. */
  readonly onAnswer: (record: ManifestRecord, evaluation: PairEvaluation) => void;
  /** Called once per record that could not be answered (prepared or requested); it is not written. */
  readonly onFailure: (record: ManifestRecord, error: unknown) => void;
}

/** How the loop ended. */
export interface EvalLoopResult {
  readonly answered: number;
  readonly failed: number;
  /** Stopped by the signal. */
  readonly interrupted: boolean;
  /** Stopped because no server was left (every one ejected). */
  readonly fleetDown: boolean;
}

/** `auto`: the sum of the live servers' adaptive limits plus two queued, so the fleet never starves a server. */
function toTarget(fleet: Fleet, concurrency: EvalConcurrency): number {
  if (concurrency !== 'auto') return concurrency;
  const live = fleet.stats().servers.filter((s) => !s.ejected);
  return Math.min(
    4096,
    Math.max(
      1,
      live.reduce((sum, s) => sum + Math.ceil(s.concurrencyLimit), 0),
    ) + 2,
  );
}

/**
 * Answers every record once through `ask` (n = 1, greedy), keeping up to
 * the target number of requests in flight and appending each answer to the
 * log as soon as it arrives. A failed record is reported and skipped (a rerun
 * asks it again); when every server is ejected the loop stops issuing. A
 * record source that throws (the manifest changed) ends the loop with its
 * error once the requests in flight are settled.
 */
export function runEvalLoop(deps: EvalLoopDeps): Promise<EvalLoopResult> {
  const { fleet, signal } = deps;
  const source = deps.records[Symbol.asyncIterator]();
  let exhausted = false;
  let pulling = false;
  let sourceError: { error: unknown } | undefined;
  let inFlight = 0;
  let answered = 0;
  let failed = 0;
  let fleetDown = false;
  return new Promise((resolve, reject) => {
    let settled = false;
    const stopped = () => signal.aborted || fleetDown || exhausted || sourceError !== undefined;
    const finishIfIdle = () => {
      if (settled || inFlight > 0 || pulling || !stopped()) return;
      settled = true;
      signal.removeEventListener('abort', finishIfIdle);
      // Ends the manifest read early (Ctrl-C, fleet down); a finished or failed source is already closed.
      void source.return?.()?.catch(() => undefined);
      if (sourceError !== undefined) reject(sourceError.error);
      else resolve({ answered, failed, interrupted: signal.aborted, fleetDown });
    };
    const ask = async (record: ManifestRecord) => {
      try {
        const evaluation = await deps.ask(record, signal);
        const { result } = evaluation;
        await deps.log.append({
          id: record.id,
          completion: evaluation.completion,
          server: result.server,
          latency_ms: Math.round(result.latencyMs),
        });
        answered++;
        deps.onAnswer(record, evaluation);
      } catch (error) {
        if (signal.aborted) return;
        failed++;
        deps.onFailure(record, error);
        if (isDifferadError(error, 'INFERENCE_UNAVAILABLE') && fleet.stats().servers.every((s) => s.ejected)) fleetDown = true;
      }
    };
    const pump = async () => {
      if (pulling) return;
      pulling = true;
      try {
        while (!stopped() && inFlight < toTarget(fleet, deps.concurrency)) {
          const next = await source.next();
          if (next.done === true) {
            exhausted = true;
            break;
          }
          if (signal.aborted) break;
          inFlight++;
          void ask(next.value).finally(() => {
            inFlight--;
            void pump();
          });
        }
      } catch (error) {
        sourceError = { error };
      } finally {
        pulling = false;
      }
      finishIfIdle();
    };
    signal.addEventListener('abort', finishIfIdle);
    void pump();
  });
}
