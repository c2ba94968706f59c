import { createFleet } from '@differad/inference';
import { createPngDataUrl } from '@differad/testing';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { spawnCli } from './spawn-cli.js';

describe('differad fake-vllm', () => {
  it('serves a completion on the port it prints and stops cleanly on SIGTERM', async () => {
    const cli = spawnCli(
      [
        'fake-vllm',
        '--port',
        '0',
        '--model',
        'e2e-model',
        '--tokens-per-second',
        '5000',
        '--policy',
        'constant',
        '--text',
        '<think>ok</think><answer>(0,0),(0,0)</answer>',
      ],
      /fake vLLM listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    try {
      const [, url] = await cli.ready;
      const fleet = createFleet({ servers: [url!], model: 'e2e-model', metricsIntervalMs: 0, timeoutMs: 10_000 });
      try {
        const image = createPngDataUrl({ width: 8, height: 8, color: [3, 3, 3] });
        const result = await fleet.complete({
          referenceImage: image,
          targetImage: image,
          prompt: 'p',
          n: 2,
          seed: 1,
          sampling: { temperature: 0.9, topP: 1, topK: -1, maxTokens: 64 },
        });
        expect(result.completions.map((c) => c.text)).toEqual([
          '<think>ok</think><answer>(0,0),(0,0)</answer>',
          '<think>ok</think><answer>(0,0),(0,0)</answer>',
        ]);
        expect(result.server).toBe(url);
      } finally {
        await fleet.close();
      }
    } finally {
      if (cli.child.exitCode === null) process.kill(cli.child.pid!, 'SIGTERM');
    }
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('fake vLLM stopped on SIGTERM; requests: 1 received, 1 completed');
  });

  it('shows an example in --help and rejects a rate outside [0, 1] as wrong usage', async () => {
    const help = await runCli(['fake-vllm', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('differad fake-vllm --port 8000');
    const bad = await runCli(['fake-vllm', '--port', '0', '--error-rate', '2']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--error-rate needs a probability in [0, 1]');
  });
});
