// Which names each workspace's `src/index.ts` exports, and which other
// workspaces (and test/, bench/, scripts/, tools/, docker/, examples/) import
// each one from `@differad/<pkg>` (docs/architecture.md §2: an index exports
// what other workspaces use). `node scripts/check-exports.mjs` prints the
// table; test/index-exports.test.ts holds the rule. Types: check-exports.d.mts.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Folders outside the workspaces whose files count as consumers. */
const OTHER_ROOTS = ['test', 'bench', 'scripts', 'tools', 'docker', 'examples'];
const SKIP = new Set(['node_modules', 'dist', '.git', '.venv', 'venv', '__pycache__']);
const SOURCE = /\.(ts|mts|cts|tsx|js|mjs|cjs)$/;
const SCOPE = '@differad/';

function sourceFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const entry of readdirSync(dir)) {
    if (SKIP.has(entry) || entry.startsWith('dist.')) continue;
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (SOURCE.test(entry)) out.push(path);
  }
  return out;
}

function parse(path) {
  const kind = path.endsWith('x') ? ts.ScriptKind.TSX : /\.[mc]?js$/.test(path) ? ts.ScriptKind.JS : ts.ScriptKind.TS;
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, false, kind);
}

const hasExport = (node) => ts.getModifiers?.(node)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword) ?? false;

/** The names an index file exports (`export { a, type B } from`, `export const`, `export function`, ...). */
export function indexExports(path) {
  const names = [];
  for (const statement of parse(path).statements) {
    if (ts.isExportDeclaration(statement)) {
      if (!statement.exportClause) throw new Error(`${path}: \`export *\` hides which names the index exports; name them`);
      if (ts.isNamespaceExport(statement.exportClause)) names.push(statement.exportClause.name.text);
      else for (const element of statement.exportClause.elements) names.push(element.name.text);
    } else if (ts.isExportAssignment(statement)) {
      names.push('default');
    } else if (hasExport(statement)) {
      if (ts.isVariableStatement(statement)) {
        for (const declaration of statement.declarationList.declarations)
          if (ts.isIdentifier(declaration.name)) names.push(declaration.name.text);
      } else if (statement.name && ts.isIdentifier(statement.name)) {
        names.push(statement.name.text);
      }
    }
  }
  return names;
}

/** `@differad/x/anything` → `@differad/x`; null for any other specifier. */
function toPackage(specifier) {
  if (!specifier.startsWith(SCOPE)) return null;
  return specifier.split('/').slice(0, 2).join('/');
}

/**
 * What one file takes from `@differad/*` packages: `named` maps a package to
 * the names the file imports, re-exports or augments (`declare module`) by
 * name; `opaque` lists packages it reaches through a namespace, a dynamic
 * `import()` or an `import('…')` type, whose uses are then every identifier of
 * the file that the package exports (an over-count, never an under-count);
 * `imports` lists packages it imports at all and `relatives` its relative
 * specifiers (for the check that a package's own files skip its index).
 */
export function fileUses(path) {
  const source = parse(path);
  const named = new Map();
  const opaque = new Set();
  const imports = new Set();
  const relatives = new Set();
  const identifiers = new Set();
  const add = (pkg, name) => {
    if (!named.has(pkg)) named.set(pkg, new Set());
    named.get(pkg).add(name);
  };
  const visit = (node) => {
    if (ts.isIdentifier(node)) identifiers.add(node.text);
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const pkg = toPackage(node.moduleSpecifier.text);
      const clause = node.importClause;
      if (node.moduleSpecifier.text.startsWith('.')) relatives.add(node.moduleSpecifier.text);
      if (pkg) {
        imports.add(pkg);
        if (clause?.name) add(pkg, 'default');
        const bindings = clause?.namedBindings;
        if (bindings && ts.isNamespaceImport(bindings)) opaque.add(pkg);
        else if (bindings) for (const element of bindings.elements) add(pkg, (element.propertyName ?? element.name).text);
      }
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      const pkg = toPackage(node.moduleSpecifier.text);
      if (node.moduleSpecifier.text.startsWith('.')) relatives.add(node.moduleSpecifier.text);
      if (pkg) {
        imports.add(pkg);
        if (!node.exportClause || ts.isNamespaceExport(node.exportClause)) opaque.add(pkg);
        else for (const element of node.exportClause.elements) add(pkg, (element.propertyName ?? element.name).text);
      }
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      // `declare module '@differad/core' { interface DifferadErrorTables { … } }` merges into an exported name.
      const pkg = toPackage(node.name.text);
      if (pkg && node.body && ts.isModuleBlock(node.body)) {
        for (const statement of node.body.statements) if (statement.name && ts.isIdentifier(statement.name)) add(pkg, statement.name.text);
      }
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      const pkg = argument && ts.isStringLiteralLike(argument) ? toPackage(argument.text) : null;
      if (argument && ts.isStringLiteralLike(argument) && argument.text.startsWith('.')) relatives.add(argument.text);
      if (pkg) {
        imports.add(pkg);
        opaque.add(pkg);
      }
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      const pkg = toPackage(node.argument.literal.text);
      if (pkg) opaque.add(pkg);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { named, opaque, imports, relatives, identifiers };
}

/** The workspaces (apps/*, packages/*) with a package.json and a src/index.ts. */
function loadWorkspaces(root) {
  const all = [];
  for (const kind of ['packages', 'apps']) {
    for (const entry of readdirSync(join(root, kind)).sort()) {
      const dir = join(kind, entry);
      const manifest = join(root, dir, 'package.json');
      const index = join(root, dir, 'src', 'index.ts');
      if (!existsSync(manifest) || !existsSync(index)) continue;
      all.push({ name: JSON.parse(readFileSync(manifest, 'utf8')).name, dir, index });
    }
  }
  return all;
}

/**
 * Per workspace: every name its index exports, with the consumers (another
 * workspace's name, or a top-level folder such as `test`) that use it; and
 * the files that import their own package, by its name or its index, instead
 * of the module that defines the name.
 */
export function checkExports(root = ROOT) {
  const workspaces = loadWorkspaces(root);
  const exported = new Map(workspaces.map((w) => [w.name, indexExports(w.index)]));
  const usedBy = new Map(workspaces.map((w) => [w.name, new Map(exported.get(w.name).map((n) => [n, new Set()]))]));
  const selfImports = [];
  const consumers = [
    ...workspaces.map((w) => ({ label: w.name, own: w.name, dir: w.dir })),
    ...OTHER_ROOTS.map((dir) => ({ label: dir, own: null, dir })),
  ];
  for (const consumer of consumers) {
    for (const file of sourceFiles(join(root, consumer.dir))) {
      const uses = fileUses(file);
      const name = relative(root, file).split(sep).join('/');
      const ownIndex = consumer.own ? join(root, consumer.dir, 'src', 'index') : null;
      const viaOwnIndex = [...uses.relatives].some((spec) => join(dirname(file), spec).replace(/\.[mc]?[jt]s$/, '') === ownIndex);
      if (consumer.own && (uses.imports.has(consumer.own) || viaOwnIndex)) selfImports.push(name);
      const record = (pkg, id) => usedBy.get(pkg)?.get(id)?.add(consumer.label);
      for (const [pkg, ids] of uses.named) if (pkg !== consumer.own) for (const id of ids) record(pkg, id);
      for (const pkg of uses.opaque)
        if (pkg !== consumer.own) for (const id of exported.get(pkg) ?? []) if (uses.identifiers.has(id)) record(pkg, id);
    }
  }
  return {
    workspaces: workspaces.map((w) => ({
      name: w.name,
      index: `${w.dir}/src/index.ts`,
      exports: [...usedBy.get(w.name)].map(([id, by]) => ({ name: id, usedBy: [...by].sort() })),
    })),
    selfImports: selfImports.sort(),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = checkExports();
  let total = 0;
  let used = 0;
  for (const w of report.workspaces) {
    const unused = w.exports.filter((e) => e.usedBy.length === 0).map((e) => e.name);
    total += w.exports.length;
    used += w.exports.length - unused.length;
    console.log(`${w.name}: ${w.exports.length} exported, ${w.exports.length - unused.length} used by another workspace`);
    if (process.argv.includes('--unused') && unused.length > 0) console.log(`  unused: ${unused.join(', ')}`);
  }
  console.log(`all: ${total} exported, ${used} used by another workspace`);
  for (const file of report.selfImports) console.log(`self-import: ${file}`);
}
