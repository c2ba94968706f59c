import { describe, expect, it } from 'vitest';
import { describeEvalOptionProblem } from './eval-options.js';

const base = { manifest: 'm.jsonl', family: 'differad', frame: 'norm1000' } as const;

describe('describeEvalOptionProblem', () => {
  it('accepts one backend: --endpoint with --model, --policy cpu, --run or --policy-file', () => {
    expect(describeEvalOptionProblem({ ...base, endpoint: 'http://a:8000', model: 'm' })).toBeNull();
    expect(describeEvalOptionProblem({ ...base, policy: 'cpu' })).toBeNull();
    expect(describeEvalOptionProblem({ ...base, run: 'r1', runsDir: 'runs' })).toBeNull();
    expect(describeEvalOptionProblem({ ...base, policyFile: 'p.json', policy: 'cpu' })).toBeNull();
  });

  it('lets --run go without --manifest (the run’s held-out manifest), nothing else', () => {
    expect(describeEvalOptionProblem({ family: 'differad', frame: 'norm1000', run: 'r1' })).toBeNull();
    expect(describeEvalOptionProblem({ family: 'differad', frame: 'norm1000', policyFile: 'p.json' })).toContain('pass --manifest FILE');
    expect(describeEvalOptionProblem({ family: 'differad', frame: 'norm1000', policy: 'cpu' })).toContain('pass --manifest FILE');
  });

  it('names the conflicting or missing flags', () => {
    expect(describeEvalOptionProblem(base)).toContain('--run RUN / --policy-file FILE');
    expect(describeEvalOptionProblem({ ...base, run: 'r1', policyFile: 'p.json' })).toContain('either --run');
    expect(describeEvalOptionProblem({ ...base, run: 'r1', endpoint: 'http://a:8000', model: 'm' })).toContain('drop --endpoint');
    expect(describeEvalOptionProblem({ ...base, policy: 'cpu', endpoint: 'http://a:8000', model: 'm' })).toContain('not both');
    expect(describeEvalOptionProblem({ ...base, policy: 'cpu', runsDir: 'runs' })).toContain('pass --run RUN with it');
    expect(describeEvalOptionProblem({ ...base, run: 'r1', frame: 'pixels' })).toContain('differad/norm1000');
  });
});
