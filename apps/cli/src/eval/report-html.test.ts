import { computeMetricReport, computeSampleScore, type ManifestRecord } from '@differad/core';
import { describe, expect, it } from 'vitest';
import { selectReportSamples } from './eval-report.js';
import { toReportHtml } from './report-html.js';
import type { ScoreSummary } from './score-summary.js';

const record = (id: string, box: [number, number, number, number] | null): ManifestRecord => ({
  id,
  class: box ? 'scratch' : 'good',
  reference: 'r.png',
  target: 't.png',
  width: 100,
  height: 100,
  box,
});
const scoreOf = (r: ManifestRecord, completion: string) => computeSampleScore(r, { id: r.id, completion });

describe('the evaluation report', () => {
  it('escapes model output, so an answer cannot inject markup into the page', () => {
    const r = record('x', [10, 10, 20, 20]);
    const evil = '<script>alert(1)</script><answer>oops</answer>';
    const score = scoreOf(r, evil);
    const summary = { ...computeMetricReport([score], 0.3) } as ScoreSummary;
    const html = toReportHtml({
      title: 'a & b',
      facts: [['model', '<m>']],
      summary,
      worst: [],
      best: [],
      invalid: [{ id: 'x', class: 'scratch', reason: score.reason ?? '', completion: evil }],
    });
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('<title>a &amp; b</title>');
    expect(html).toContain('Invalid answers (1)');
    expect(html).toContain('<dt>model</dt><dd>&lt;m&gt;</dd>');
  });

  it('shows the class mean over defect classes beside the plain class mean, a normal-only class left out of it', () => {
    const hit = scoreOf(record('hit', [10, 10, 20, 20]), '<think>t</think><answer>(100,100),(200,200)</answer>');
    const falseAlarm = scoreOf(record('normal', null), '<think>t</think><answer>(100,100),(200,200)</answer>');
    const summary = { ...computeMetricReport([hit, falseAlarm], 0.3) } as ScoreSummary;
    const html = toReportHtml({ title: 't', facts: [], summary, worst: [], best: [], invalid: [] });
    // Class "good" (normal only) has F1 0: the plain class mean halves the defect class's 100.
    expect(html).toMatch(
      /<th>class mean \(unweighted over classes\)<\/th><td>2<\/td><td>1<\/td><td>1<\/td><td>50\.00<\/td><td>50\.00<\/td>/,
    );
    expect(html).toMatch(/<th>defect class mean [^<]*<\/th><td>1<\/td><td>1<\/td><td>0<\/td><td>100\.00<\/td><td>100\.00<\/td>/);
  });

  it('pictures the worst and the best samples, disjoint, anomalous ones first among the best', () => {
    const hit = scoreOf(record('hit', [10, 10, 20, 20]), '<think>t</think><answer>(100,100),(200,200)</answer>');
    const near = scoreOf(record('near', [10, 10, 20, 20]), '<think>t</think><answer>(110,110),(210,210)</answer>');
    const miss = scoreOf(record('miss', [10, 10, 20, 20]), '<think>t</think><answer>(0,0),(0,0)</answer>');
    const normal = scoreOf(record('normal', null), '<think>t</think><answer>(0,0),(0,0)</answer>');
    const { worst, best } = selectReportSamples([normal, near, hit, miss], 2);
    expect(worst.map((s) => s.id)).toEqual(['miss', 'near']);
    expect(best.map((s) => s.id)).toEqual(['hit', 'normal']);
  });
});
