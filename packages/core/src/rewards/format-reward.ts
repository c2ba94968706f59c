import { scanBoxAt, skipWhitespace } from '../parse/box-syntax.js';

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';
const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';

/**
 * Format reward R_fmt ∈ {0, 1} (docs/method.md §4): 1 when somewhere in the text a
 * `<think>…</think>` is followed by only whitespace, then `<answer>` holding
 * exactly one integer box `(x1,y1),(x2,y2)` or `[x1,y1,x2,y2]` (whitespace
 * allowed) and `</answer>`. Like the research code's unanchored search, text
 * before `<think>` or after `</answer>` does not matter, and the think block
 * may itself contain `</think>`. Linear time: each `</think>` is tried once and
 * what is scanned after it cannot contain another `</think>`.
 */
export function computeFormatReward(text: string): 0 | 1 {
  if (typeof text !== 'string') return 0;
  const firstThink = text.indexOf(THINK_OPEN);
  if (firstThink < 0) return 0;
  let close = text.indexOf(THINK_CLOSE, firstThink + THINK_OPEN.length);
  while (close >= 0) {
    if (answerFollows(text, close + THINK_CLOSE.length)) return 1;
    close = text.indexOf(THINK_CLOSE, close + THINK_CLOSE.length);
  }
  return 0;
}

function answerFollows(text: string, i: number): boolean {
  const end = text.length;
  i = skipWhitespace(text, i, end);
  if (!text.startsWith(ANSWER_OPEN, i)) return false;
  const box = scanBoxAt(text, i + ANSWER_OPEN.length, end, ['paren', 'bracket'], { integersOnly: true });
  if (box === null) return false;
  return text.startsWith(ANSWER_CLOSE, skipWhitespace(text, box.end, end));
}
