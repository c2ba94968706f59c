/**
 * The scorer of `differad score` (openScores, then writeScores with --out) run
 * on its own with the manifest's ids in a chosen index, so bench/score can
 * show both in one run: `map` (a Map<string, number>, as before) and
 * `compact` (createIdIndex, what the CLI uses). Bundled by score-rss.ts and
 * started as a child; prints the summary as JSON on stdout.
 *
 *   node score-child.mjs map|compact MANIFEST PREDICTIONS OUT
 */
import { createIdIndex, DEFAULT_SCORE_SETTINGS, type IdIndex } from '@differad/core';
import { openScores } from '../../apps/cli/src/eval/score-stream.js';

/** A Map as an IdIndex: how the manifest's ids were kept before createIdIndex. */
function createMapIdIndex(): IdIndex {
  const map = new Map<string, number>();
  return {
    get size() {
      return map.size;
    },
    get: (id) => map.get(id),
    add(id) {
      const first = map.get(id);
      if (first !== undefined) return first;
      map.set(id, map.size);
      return -1;
    },
  };
}

const [variant, manifestPath, predictionsPath, out] = process.argv.slice(2);
if (manifestPath === undefined || predictionsPath === undefined || out === undefined || (variant !== 'map' && variant !== 'compact')) {
  throw new Error('usage: score-child map|compact MANIFEST PREDICTIONS OUT');
}
const scores = await openScores({
  manifestPath,
  predictionsPath,
  settings: DEFAULT_SCORE_SETTINGS,
  indexOptions: { createIndex: variant === 'map' ? createMapIdIndex : () => createIdIndex() },
});
const { summary } = await scores.writeScores({ out, manifestPath, predictionsPath });
process.stdout.write(`${JSON.stringify(summary)}\n`);
