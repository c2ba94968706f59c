import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The workspace graph as docs/architecture.md §2 states it: apps are
 * composition roots that no workspace imports, packages never import an app,
 * every `@differad/*` import is a declared dependency, and the graph of
 * declared dependencies and imports (tests included) has no cycle.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Workspace {
  readonly name: string;
  readonly dir: string;
  readonly kind: 'apps' | 'packages';
  readonly declared: ReadonlySet<string>;
  /** `@differad/*` names imported by its sources (tests included), with one file each. */
  readonly imported: ReadonlyMap<string, string>;
}

const IMPORT = /(?:from\s+|import\s*\(\s*|import\s+)['"](@differad\/[a-z0-9-]+)(?:\/[^'"]*)?['"]/g;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry === 'dist') continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(entry)) out.push(path);
  }
  return out;
}

function loadWorkspaces(): Workspace[] {
  const all: Workspace[] = [];
  for (const kind of ['apps', 'packages'] as const) {
    for (const entry of readdirSync(join(ROOT, kind))) {
      const dir = join(kind, entry);
      let manifest: { name: string; dependencies?: Record<string, string>; devDependencies?: Record<string, string> };
      try {
        manifest = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      const declared = new Set(
        Object.keys({ ...manifest.dependencies, ...manifest.devDependencies }).filter((d) => d.startsWith('@differad/')),
      );
      const imported = new Map<string, string>();
      for (const file of sourceFiles(join(ROOT, dir))) {
        for (const m of readFileSync(file, 'utf8').matchAll(IMPORT))
          if (m[1] !== manifest.name && !imported.has(m[1]!)) imported.set(m[1]!, file.slice(ROOT.length));
      }
      all.push({ name: manifest.name, dir, kind, declared, imported });
    }
  }
  return all;
}

/** A cycle of the graph, or null. */
function findCycle(edges: ReadonlyMap<string, ReadonlySet<string>>): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    if (state.get(node) === 'done') return null;
    if (state.get(node) === 'open') return [...path.slice(path.indexOf(node)), node];
    state.set(node, 'open');
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, 'done');
    return null;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return null;
}

describe('the workspace graph', () => {
  const workspaces = loadWorkspaces();
  const byName = new Map(workspaces.map((w) => [w.name, w]));

  it('finds the workspaces', () => {
    expect(byName.get('@differad/core')?.kind).toBe('packages');
    expect(byName.get('@differad/cli')?.kind).toBe('apps');
  });

  it('has no app that another workspace depends on or imports (apps are composition roots; libraries live in packages/)', () => {
    const edges = workspaces.flatMap((w) =>
      [...new Set([...w.declared, ...w.imported.keys()])].filter((d) => byName.get(d)?.kind === 'apps').map((d) => `${w.dir} → ${d}`),
    );
    expect(edges).toEqual([]);
  });

  it('imports only the workspaces each package.json declares', () => {
    const problems = workspaces.flatMap((w) =>
      [...w.imported].filter(([d]) => !w.declared.has(d)).map(([d, file]) => `${file} imports ${d}, not in ${w.dir}/package.json`),
    );
    expect(problems).toEqual([]);
  });

  it('has no cycle', () => {
    const edges = new Map(workspaces.map((w) => [w.name, new Set([...w.declared, ...w.imported.keys()].filter((d) => byName.has(d)))]));
    expect(findCycle(edges)).toBeNull();
  });
});
