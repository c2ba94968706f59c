import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * Every citation of the method or the architecture in the repository must
 * resolve to a heading of docs/method.md or docs/architecture.md, and nothing
 * may point outside the repository. Allowed forms: the path followed by one or
 * more section numbers (`docs/method.md §4`, `§4.1`, `§4–§5`, `§5/§6`), and the
 * older alias `METHOD §N`, which docs/method.md says means the same file.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const METHOD_DOC = 'docs/method.md';
const ARCHITECTURE_DOC = 'docs/architecture.md';

/** A citation or reference that does not resolve, where it is. */
interface Problem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Section numbers of both documents. */
interface DocSections {
  readonly method: ReadonlySet<string>;
  readonly architecture: ReadonlySet<string>;
}

/** The section numbers of a markdown document: `## 4. Rewards` gives "4", `### 4.1 Format reward` gives "4.1". */
function readSections(markdown: string): Set<string> {
  const out = new Set<string>();
  for (const line of markdown.split('\n')) {
    const m = /^#{2,4}\s+(\d+(?:\.\d+)*)\.?\s/.exec(line);
    if (m?.[1] !== undefined) out.add(m[1]);
  }
  return out;
}

const SECTION = String.raw`§\d+(?:\.\d+)*`;
/** One or more section numbers after a document name: `§4`, `§4.1`, `§4–§5`, `§5/§6`, `§2, §4`. */
const SECTION_LIST = String.raw`\s*${SECTION}(?:\s*(?:,|–|—|-|/|and|or|to)\s*${SECTION})*`;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The cited forms and the document each one resolves in. Built from parts so this file does not cite itself. */
const CITATIONS: readonly { readonly pattern: RegExp; readonly doc: keyof DocSections; readonly name: string }[] = [
  { pattern: new RegExp(`${escape(METHOD_DOC)}(${SECTION_LIST})`, 'g'), doc: 'method', name: METHOD_DOC },
  { pattern: new RegExp(String.raw`\bMETHOD(${SECTION_LIST.replace(String.raw`\s*`, ' ')})`, 'g'), doc: 'method', name: METHOD_DOC },
  { pattern: new RegExp(`${escape(ARCHITECTURE_DOC)}(${SECTION_LIST})`, 'g'), doc: 'architecture', name: ARCHITECTURE_DOC },
];

/** Text that must not appear anywhere: references nobody can follow from inside the repository. */
const FORBIDDEN: readonly { readonly pattern: RegExp; readonly message: string }[] = [
  { pattern: new RegExp(String.raw`\b${'ARCHI'}${'TECTURE'}\b`, 'g'), message: `bare architecture reference: cite ${ARCHITECTURE_DOC} §N` },
  { pattern: new RegExp(String.raw`\b${'METHOD'}\.md\b`, 'g'), message: `no such file: cite ${METHOD_DOC} §N` },
  { pattern: new RegExp(escape(['..', 'shared'].join('/')), 'g'), message: 'points outside the repository' },
  { pattern: new RegExp(escape(['..', 'seed'].join('/')), 'g'), message: 'points outside the repository' },
  { pattern: new RegExp(escape(['shared', 'docs', ''].join('/')), 'g'), message: 'points outside the repository' },
  { pattern: new RegExp(escape(['shared', 'seed', ''].join('/')), 'g'), message: 'points outside the repository' },
  { pattern: new RegExp(escape(['DifferAD-R1', 'paper.txt'].join('-')), 'g'), message: 'points outside the repository' },
  { pattern: new RegExp(escape(['data', 'prompts.json'].join('/')), 'g'), message: 'no such file in the repository' },
];

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < index; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** `text` with the spans of `pattern` blanked out (newlines kept, so positions and lines stay). */
function blank(text: string, pattern: RegExp): string {
  return text.replace(pattern, (m) => m.replace(/[^\n]/g, ' '));
}

/**
 * Every unresolvable citation or forbidden reference in one file's text.
 * Inside the two documents a bare `§N` cites the document itself.
 */
function findReferenceProblems(file: string, text: string, sections: DocSections): Problem[] {
  const problems: Problem[] = [];
  let rest = text;
  for (const { pattern, doc, name } of CITATIONS) {
    for (const m of text.matchAll(pattern)) {
      for (const cited of (m[1] ?? '').matchAll(/§(\d+(?:\.\d+)*)/g)) {
        if (!sections[doc].has(cited[1]!)) {
          problems.push({ file, line: lineOf(text, m.index), message: `"${m[0].trim()}": ${name} has no section ${cited[1]}` });
        }
      }
    }
    rest = blank(rest, pattern);
  }
  const own = file === METHOD_DOC ? 'method' : file === ARCHITECTURE_DOC ? 'architecture' : null;
  if (own !== null) {
    for (const m of rest.matchAll(/§(\d+(?:\.\d+)*)/g)) {
      if (!sections[own].has(m[1]!))
        problems.push({ file, line: lineOf(rest, m.index), message: `"§${m[1]}": ${file} has no section ${m[1]}` });
    }
  }
  for (const { pattern, message } of FORBIDDEN) {
    for (const m of text.matchAll(pattern)) problems.push({ file, line: lineOf(text, m.index), message: `"${m[0]}": ${message}` });
  }
  return problems.sort((a, b) => a.line - b.line);
}

const TEXT_EXTENSIONS = new Set([
  '.ts',
  '.js',
  '.mjs',
  '.cjs',
  '.md',
  '.py',
  '.json',
  '.yaml',
  '.yml',
  '.sh',
  '.txt',
  '.ini',
  '.toml',
  '.html',
]);
const SKIPPED_DIRS = new Set(['node_modules', '.git', '.demo', 'runs', 'coverage', 'test-artifacts', 'out']);

function isScanned(path: string): boolean {
  const name = basename(path);
  if (name === 'package-lock.json' || path.split(/[\\/]/).includes('node_modules')) return false;
  return TEXT_EXTENSIONS.has(extname(name)) || name.startsWith('Dockerfile') || path === '.ci/run';
}

/** The repository's tracked files (`git ls-files`), or a walk of the tree when git is not available. */
function listRepositoryFiles(): string[] {
  try {
    return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
      .split('\0')
      .filter(Boolean);
  } catch {
    const out: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) {
          if (!SKIPPED_DIRS.has(entry.name)) walk(path);
        } else if (entry.isFile()) out.push(relative(ROOT, path).split(sep).join('/'));
      }
    };
    walk(ROOT);
    return out;
  }
}

function readDocSections(): DocSections {
  return {
    method: readSections(readFileSync(join(ROOT, METHOD_DOC), 'utf8')),
    architecture: readSections(readFileSync(join(ROOT, ARCHITECTURE_DOC), 'utf8')),
  };
}

const format = (p: Problem) => `${p.file}:${p.line}: ${p.message}`;

describe('the reference checker', () => {
  const sections: DocSections = {
    method: readSections('## 4. Rewards\n### 4.1 Format\n## 5. Groups\n'),
    architecture: readSections('## 4. Steps\n### 4.2 Flow\n'),
  };
  const M = METHOD_DOC;
  const A = ARCHITECTURE_DOC;

  it('reads `## N.` and `### N.M` headings as sections', () => {
    expect([...sections.method]).toEqual(['4', '4.1', '5']);
    expect([...sections.architecture]).toEqual(['4', '4.2']);
  });

  it('accepts citations of existing sections, in every allowed form', () => {
    const text = [
      `// ${M} §4`,
      `// ${M} §4.1 and ${A} §4.2`,
      `// (${M} §4–§5)`,
      `// ${M} §4/§5, §4.1`,
      `// METHOD §5`,
      `// ${M} alone`,
    ].join('\n');
    expect(findReferenceProblems('fake.ts', text, sections)).toEqual([]);
  });

  it('names file and line of a section that does not exist', () => {
    const text = ['// fine', `/** see ${M} §99 */`, `# METHOD §4.7`, `<p>${A} §4.9</p>`, `// ${M} §4–§12`].join('\n');
    expect(findReferenceProblems('fake.ts', text, sections).map(format)).toEqual([
      `fake.ts:2: "${M} §99": ${M} has no section 99`,
      `fake.ts:3: "METHOD §4.7": ${M} has no section 4.7`,
      `fake.ts:4: "${A} §4.9": ${A} has no section 4.9`,
      `fake.ts:5: "${M} §4–§12": ${M} has no section 12`,
    ]);
  });

  it('refuses bare names and paths outside the repository', () => {
    const bare = 'ARCHI' + 'TECTURE';
    const text = [
      `// (${bare} "The training step")`,
      `see ${['..', 'shared', 'docs', 'X.md'].join('/')}`,
      `docs/${'METHOD'}.md`,
      ['data', 'prompts.json'].join('/'),
    ].join('\n');
    const problems = findReferenceProblems('fake.py', text, sections);
    expect(problems.map((p) => p.line)).toEqual([1, 2, 2, 3, 4]);
    expect(problems[0]!.message).toContain(`cite ${A} §N`);
    expect(problems[1]!.message).toContain('outside the repository');
  });

  it('checks a document’s own bare `§N` against its own headings', () => {
    const text = `## 4. Rewards\nSee §4.1 and §5, then §77; ${A} §4.2 is elsewhere.`;
    expect(findReferenceProblems(M, text, sections).map(format)).toEqual([`${M}:2: "§77": ${M} has no section 77`]);
    expect(findReferenceProblems('other.md', text, sections)).toEqual([]);
  });
});

describe('references in the repository', () => {
  it('docs/method.md keeps the numbered sections the code cites', () => {
    const headings = readFileSync(join(ROOT, METHOD_DOC), 'utf8')
      .split('\n')
      .filter((l) => /^## \d+\. /.test(l));
    const topics = [
      'Task',
      'Coordinate frames',
      'Output formats',
      'Rewards',
      'Group statistics',
      'Policy loss',
      'Sampling and prompts',
      'Evaluation metrics',
      'Synthetic anomaly pairs',
      'Building pairs',
      'Non-LLM baselines',
      'Where differad differs',
    ];
    expect(headings.map((h) => /^## (\d+)\. /.exec(h)![1])).toEqual(topics.map((_, i) => String(i + 1)));
    topics.forEach((topic, i) => expect(headings[i]).toContain(topic));
  });

  it('docs/architecture.md has numbered sections', () => {
    const sections = readDocSections().architecture;
    expect(sections.has('1') && sections.has('4') && sections.has('6')).toBe(true);
  });

  it('every citation resolves and nothing points outside the repository', () => {
    const sections = readDocSections();
    // The two documents are always checked, tracked or not yet.
    const files = [...new Set([METHOD_DOC, ARCHITECTURE_DOC, ...listRepositoryFiles()])].filter(isScanned);
    const problems: Problem[] = [];
    let citations = 0;
    for (const file of files) {
      const path = join(ROOT, file);
      if (!existsSync(path) || !statSync(path).isFile()) continue;
      const text = readFileSync(path, 'utf8');
      if (text.includes('\0')) continue;
      for (const { pattern } of CITATIONS) citations += [...text.matchAll(pattern)].length;
      problems.push(...findReferenceProblems(file, text, sections));
    }
    expect(files.length).toBeGreaterThan(100);
    expect(citations).toBeGreaterThan(100);
    expect(problems.map(format)).toEqual([]);
  });
});
