/** Histogram of 8-bit samples (256 bins). */
export function computeHistogram(samples: Uint8Array): Float64Array {
  const hist = new Float64Array(256);
  for (let i = 0; i < samples.length; i++) hist[samples[i] as number]! += 1;
  return hist;
}

/**
 * Otsu's threshold of 8-bit grey samples: the split maximizing the
 * between-class variance w0·w1·(μ0 − μ1)². Returned as the lowest value of
 * the bright class, so `toBinaryMask(image, t)` (v ≥ t) applies it directly.
 * When a range of splits ties (an empty gap between two modes) the middle of
 * the range is taken, which is robust to mild noise on either mode. Returns
 * 256 (nothing bright) when the samples hold fewer than two distinct values.
 */
export function computeOtsuThreshold(samples: Uint8Array): number {
  const hist = computeHistogram(samples);
  const total = samples.length;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) sumAll += v * (hist[v] as number);
  let w0 = 0;
  let sum0 = 0;
  let best = 0;
  let first = -1;
  let last = -1;
  for (let t = 0; t < 255; t++) {
    w0 += hist[t] as number;
    sum0 += t * (hist[t] as number);
    const w1 = total - w0;
    if (w0 === 0 || w1 === 0) continue;
    const d = sum0 / w0 - (sumAll - sum0) / w1;
    const between = w0 * w1 * d * d;
    if (between > best * (1 + 1e-12)) {
      best = between;
      first = t;
      last = t;
    } else if (between >= best * (1 - 1e-12)) {
      last = t;
    }
  }
  return first < 0 ? 256 : Math.floor((first + last) / 2) + 1;
}
