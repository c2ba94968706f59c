import type { ErrorSpec } from './error-registry.js';

/** The error codes @differad/core throws (its own failures; the rest of core returns values). */
export const CORE_ERRORS = {
  FRAME_INVALID_SIZE: {
    status: null,
    retryable: false,
    summary: 'An image size for box-frame conversion is not positive, or its aspect ratio is above what a Qwen-style processor accepts.',
  },
  FRAME_INVALID_RESIZE: { status: null, retryable: false, summary: 'Resize options need factor ≥ 1 and 0 < minPixels ≤ maxPixels.' },
  PROMPTS_INVALID: {
    status: null,
    retryable: false,
    summary: 'A prompt pool is not a non-empty JSON array of non-empty instruction strings.',
  },
} as const satisfies Record<string, ErrorSpec>;
