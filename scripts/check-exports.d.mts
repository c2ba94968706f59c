// Types of check-exports.mjs, for the TypeScript that imports it (test/index-exports.test.ts).

/** One name an index exports, and who outside its workspace imports it. */
export interface IndexExport {
  readonly name: string;
  /** Other workspaces (`@differad/cli`) and top-level folders (`test`, `bench`) that use the name. */
  readonly usedBy: readonly string[];
}

/** One workspace's `src/index.ts`. */
export interface WorkspaceExports {
  readonly name: string;
  /** The index, relative to the repository root. */
  readonly index: string;
  readonly exports: readonly IndexExport[];
}

export interface ExportsReport {
  readonly workspaces: readonly WorkspaceExports[];
  /** Files of a package that import the package itself (its name or its index) instead of the defining module. */
  readonly selfImports: readonly string[];
}

/** The names an index file exports. */
export function indexExports(path: string): string[];

/** Who uses each name of every workspace's index (root: the repository, by default this checkout). */
export function checkExports(root?: string): ExportsReport;
