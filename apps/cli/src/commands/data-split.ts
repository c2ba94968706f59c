import { rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  computeDatasetStats,
  createRng,
  DifferadError,
  type ManifestRecord,
  type SplitPart,
  type SplitSize,
  splitByGroups,
  toGroupKey,
  toTargetCount,
} from '@differad/core';
import { type LoadedManifest, loadManifest, rebaseManifestRecord, withStagedOutput, writeManifest } from '@differad/datasets';
import { type Command, InvalidArgumentError } from 'commander';
import { type CliIo, parseIntegerOption, resolvePath } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { formatSplitSummary, partTarget, type SplitPartSummary } from '../data/split-summary.js';

interface SplitFlags {
  out: string;
  heldout: SplitSize;
  test?: SplitSize;
  seed: number;
  groupBy?: string;
  force?: boolean;
  json?: boolean;
}

const FILES: Record<SplitPart, string> = { train: 'train.jsonl', heldout: 'heldout.jsonl', test: 'test.jsonl' };
const DEFAULT_GROUP = 'source.target';

/** `0.2` is a share of the records, `30` a number of records: anything else is wrong usage (exit 1). */
function parseSplitSize(flag: string): (value: string) => SplitSize {
  return (value) => {
    const n = Number(value);
    const text = value.trim();
    if (/^\d+$/.test(text) && n >= 1) return { kind: 'count', value: n };
    if (text !== '' && /[.eE]/.test(text) && n > 0 && n < 1) return { kind: 'fraction', value: n };
    throw new InvalidArgumentError(`${flag} needs a fraction between 0 and 1 (0.2) or a record count ≥ 1 (30), got "${value}"`);
  };
}

/** Group keys: --group-by when given (a record without it is unusable input), else source.target, else the id. */
function groupKeys(manifest: LoadedManifest, groupBy: string | undefined): string[] {
  return manifest.records.map((r) => {
    if (groupBy === undefined) return toGroupKey(r, DEFAULT_GROUP) ?? `id:${r.id}`;
    const key = toGroupKey(r, groupBy);
    if (key === undefined) {
      throw new DifferadError(
        'SPLIT_GROUP_MISSING',
        `${manifest.path}:${manifest.lines.get(r.id)}: record "${r.id}" has no ${groupBy} (--group-by)`,
      );
    }
    return key;
  });
}

function checkCount(size: SplitSize | undefined, flag: string, n: number): void {
  if (size?.kind === 'count' && size.value > n) {
    throw new DifferadError('SPLIT_SIZE_INVALID', `${flag} ${size.value} is more than the ${n} record(s) of the manifest`, {
      details: { flag },
    });
  }
}

async function existingOutputs(out: string): Promise<string[]> {
  const found = await Promise.all(
    Object.values(FILES).map((f) =>
      stat(join(out, f)).then(
        () => join(out, f),
        () => null,
      ),
    ),
  );
  return found.filter((f): f is string => f !== null);
}

async function runSplit(io: CliIo, file: string, f: SplitFlags): Promise<number> {
  const manifest = await loadManifest(resolvePath(io, file));
  const out = resolvePath(io, f.out);
  const n = manifest.records.length;
  checkCount(f.heldout, '--heldout', n);
  checkCount(f.test, '--test', n);
  const keys = groupKeys(manifest, f.groupBy);
  const split = splitByGroups(keys, { heldout: toTargetCount(f.heldout, n), test: toTargetCount(f.test, n) }, createRng(f.seed));
  const parts: SplitPart[] = f.test === undefined ? ['train', 'heldout'] : ['train', 'heldout', 'test'];
  for (const part of parts) {
    if (split.parts[part].length > 0) continue;
    const asked = part === 'train' ? 'the rest' : `${partTarget(split, part)} record(s)`;
    throw new DifferadError(
      'SPLIT_PART_EMPTY',
      `the split leaves ${part} empty (asked ${asked} of ${n} in ${new Set(keys).size} group(s)); change --heldout/--test`,
    );
  }
  const existing = await existingOutputs(out);
  if (existing.length > 0 && f.force !== true)
    throw new DifferadError('OUTPUT_EXISTS', `${existing.join(', ')} already exist(s); pass --force to replace`);
  const from = dirname(manifest.path);
  const recordsOf = (part: SplitPart): ManifestRecord[] =>
    split.parts[part].map((i) => rebaseManifestRecord(manifest.records[i]!, from, out));
  await withStagedOutput(out, async (dir) => {
    for (const part of parts) await writeManifest(join(dir, FILES[part]), recordsOf(part));
  });
  // A test.jsonl of an earlier split with --test would otherwise be read as this split's.
  if (f.test === undefined) await rm(join(out, FILES.test), { force: true });
  const summaries: SplitPartSummary[] = parts.map((part) => ({
    part,
    file: join(out, FILES[part]),
    groups: split.groups[part],
    target: partTarget(split, part),
    stats: computeDatasetStats(split.parts[part].map((i) => manifest.records[i]!)),
  }));
  const summary = {
    manifest: manifest.path,
    records: n,
    groups: new Set(keys).size,
    groupBy: f.groupBy ?? `${DEFAULT_GROUP}, else id`,
    seed: f.seed,
    parts: summaries,
  };
  io.stdout(f.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSplitSummary(summary));
  return 0;
}

/** Registers `differad data split` under `data`. */
export function registerDataSplitCommand(data: Command, io: CliIo): void {
  data
    .command('split')
    .summary('split a manifest into train / held-out (/ test), whole groups per part')
    .description(
      'Writes OUT/train.jsonl, OUT/heldout.jsonl and, with --test, OUT/test.jsonl, with their paths rewritten relative to OUT. Records that share a group never straddle two parts: the group is source.target (DeepPCB windows of one board image), else the record id, or the field --group-by names. Groups are shuffled by --seed and assigned whole, so each part ends within one group of its asked size; the summary gives the sizes reached and the class balance of each part.',
    )
    .argument('<manifest>', 'manifest JSONL')
    .requiredOption('--out <dir>', 'folder for train.jsonl, heldout.jsonl, test.jsonl')
    .requiredOption('--heldout <size>', 'held-out size: a fraction (0.2) or a count (30)', parseSplitSize('--heldout'))
    .option('--test <size>', 'also a test part: a fraction or a count', parseSplitSize('--test'))
    .option('--seed <n>', 'seed of the group shuffle', parseIntegerOption('--seed', 0), 1)
    .option('--group-by <field>', 'dot path of the group key (class, source.board)')
    .option('--force', 'replace existing split files in OUT')
    .option('--json', 'print the summary as one JSON object')
    .addHelpText(
      'after',
      helpText(
        '\nExample:\n  differad data split data/deeppcb/manifest.jsonl --out data/deeppcb --heldout 0.2 --seed 7\n\nExit codes: 0 done; 1 wrong usage (a bad --heldout/--test); 2 unusable input (invalid manifest, a part left empty, a record without --group-by, existing files without --force).',
      ),
    )
    .action(async (file: string, f: SplitFlags) => {
      io.setExitCode(await runSplit(io, file, f));
    });
}
