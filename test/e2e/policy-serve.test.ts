import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPngDataUrl } from '@differad/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';
import { spawnCli } from './spawn-cli.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'differad-e2e-policy-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('differad policy serve', () => {
  it('serves the CPU policy from a policy file, answers a pair and stops cleanly on SIGTERM', async () => {
    const policy = {
      version: 7,
      params: {
        threshold: { mean: 0.2, logStd: -3, min: 0.01, max: 0.95 },
        blur: { mean: 1, logStd: -1, min: 0, max: 8 },
        min_area: { mean: -3, logStd: -1, min: -6, max: -0.5 },
      },
    };
    await writeFile(join(dir, 'policy.json'), JSON.stringify(policy));
    const cli = spawnCli(
      ['policy', 'serve', '--port', '0', '--slots', '3', '--seed', '4', '--policy', join(dir, 'policy.json')],
      /CPU policy listening on (http:\/\/127\.0\.0\.1:\d+)/,
    );
    try {
      const [line, url] = await cli.ready;
      expect(line).toContain(url);
      const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: { id: string }[] };
      expect(models.data.map((m) => m.id)).toEqual(['differad-cpu']);
      const reference = createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170] });
      const target = createPngDataUrl({ width: 64, height: 64, color: [180, 180, 170], patch: [16, 24, 32, 40], patchColor: [20, 20, 20] });
      const res = await fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'differad-cpu',
          messages: [
            {
              role: 'user',
              content: [
                { type: 'image_url', image_url: { url: reference } },
                { type: 'image_url', image_url: { url: target } },
                { type: 'text', text: 'box it' },
              ],
            },
          ],
          n: 1,
          temperature: 0,
        }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-weight-version')).toBe('7');
      const body = (await res.json()) as { choices: { message: { content: string } }[] };
      // The patch spans 250..500 × 375..625 in norm1000.
      expect(body.choices[0]!.message.content).toMatch(/threshold=0\.200000 .*<answer>\(2\d\d,3\d\d\),\([45]\d\d,[56]\d\d\)<\/answer>$/);
    } finally {
      if (cli.child.exitCode === null) process.kill(cli.child.pid!, 'SIGTERM');
    }
    const exit = await cli.exited;
    expect(exit.code).toBe(0);
    expect(exit.stderr).toContain('CPU policy stopped on SIGTERM (weight version 7)');
  });

  it('shows an example in --help and rejects a broken policy file', async () => {
    const help = await runCli(['policy', 'serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('differad policy serve --port 0 --slots 4');
    await writeFile(
      join(dir, 'bad.json'),
      JSON.stringify({ version: 1, params: { threshold: { mean: 0.2, logStd: -3, min: 0, max: 1 } } }),
    );
    const bad = await runCli(['policy', 'serve', '--port', '0', '--policy', join(dir, 'bad.json')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('POLICY_INVALID');
    expect(bad.stderr).toContain('lacks the parameter(s) blur, min_area');
  });
});
