/**
 * One real vLLM for the whole live run: the venv (scripts/python-venv.mjs),
 * the tiny checkpoint (tools/tiny-vlm) and the server, started once and
 * stopped after the last file. The tests read where it is with inject('liveVllm').
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensurePythonVenv, ensureTinyCheckpoint, type LiveVllmInfo, readPixelBounds, startVllmServer } from './vllm-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    liveVllm: LiveVllmInfo;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const t0 = Date.now();
  const python = ensurePythonVenv();
  const t1 = Date.now();
  const checkpoint = ensureTinyCheckpoint(python, 0);
  const otherCheckpoint = ensureTinyCheckpoint(python, 1);
  const t2 = Date.now();
  const pixels = readPixelBounds(checkpoint);
  const logFile = join(mkdtempSync(join(tmpdir(), 'differad-live-vllm-')), 'vllm.log');
  const server = await startVllmServer({ python, checkpoint, model: 'differad-tiny-qwen2-vl', logFile, pixels });
  console.log(
    `live vLLM: venv ${t1 - t0} ms, checkpoints ${t2 - t1} ms, server start ${server.startupMs} ms at ${server.url} (log ${logFile})`,
  );
  const { close, ...started } = server;
  project.provide('liveVllm', { ...started, otherCheckpoint, python, pixels });
  return close;
}
