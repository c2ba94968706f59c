import type { RunSnapshot, StepMetrics } from '@differad/queue';
import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../schemas/job-schemas.js';
import { markup, renderPage } from './html.js';
import { renderLoginForm, renderRunPage, renderRunsPage } from './pages.js';

// Model output reaches the pages: a failed run's or job's message quotes what the model answered.
const COMPLETION = '<answer>none</answer></td><script>alert(document.cookie)</script><img src=x onerror="alert(1)">';

const run: RunSnapshot = {
  runId: 'run-1',
  state: 'failed',
  message: `unparseable completion: ${COMPLETION}`,
  lastCompletedStep: 3,
  weightVersion: 4,
  createdAt: 0,
  updatedAt: 1,
};
const job: JobSnapshot = {
  id: 'eval-1',
  kind: 'eval',
  state: 'failed',
  message: COMPLETION,
  outDir: '/runs/"evals"/<1>',
  exitCode: 1,
  createdAt: 0,
  updatedAt: 1,
  spec: {},
};
const row: StepMetrics = { step: 3, weightVersion: 4, at: 0, values: { '<script>x</script>': 1 } };

/** Every script element and element with an event handler attribute in `html`. */
const active = (html: string): string[] => html.match(/<script\b|<[a-z][^<>]*\son\w+=/gi) ?? [];

describe('the dashboard pages', () => {
  it('escape a completion with a <script> in every place model output reaches', () => {
    const pages = [String(renderRunsPage([run], [job], [{ ...job, kind: 'synth' }])), String(renderRunPage(run, null, [row], [job]))];
    for (const html of pages) {
      expect(active(html)).toEqual([]);
      expect(html).toContain('&lt;script&gt;alert(document.cookie)&lt;/script&gt;');
    }
    expect(pages[0]).toContain('<span class="muted">/runs/&quot;evals&quot;/&lt;1&gt;</span>');
    expect(pages[1]).toContain('<th>&lt;script&gt;x&lt;/script&gt;</th>');
  });

  it('show a cancelled run as cancelled, in its own style and without a Cancel button', () => {
    const cancelled: RunSnapshot = { ...run, state: 'cancelled', message: 'cancelled through the API' };
    for (const html of [String(renderRunsPage([cancelled], [], [])), String(renderRunPage(cancelled, null, [], []))]) {
      expect(html).toMatch(/<span class="state state-cancelled"( id="run-state")?>cancelled<\/span>/);
      expect(html).not.toContain('data-cancel=');
    }
    expect(renderPage({ title: 't', body: markup`` })).toMatch(/\.state-cancelled \{ background: #e2e8f0;/);
  });

  it('escape the title and the login form, and keep only the page script, with its nonce', () => {
    const html = renderPage({
      title: '<script>t</script>',
      body: renderLoginForm('/x"><script>n</script>', '<script>e</script>'),
      nonce: 'n0nce',
      script: 'void 0;',
      csrfToken: '"t"',
    });
    expect(active(html)).toEqual(['<script']);
    expect(html).toContain('<script nonce="n0nce">void 0;</script>');
    expect(html).toContain('<title>&lt;script&gt;t&lt;/script&gt; · differad</title>');
    expect(html).toContain('value="/x&quot;&gt;&lt;script&gt;n&lt;/script&gt;"');
    expect(html).toContain('<meta name="csrf-token" content="&quot;t&quot;">');
  });
});
