/**
 * Waits for `work` to settle, but no longer than `ms`: true when it settled in
 * time (its result and any error are dropped), false when time ran out. For
 * clean-up steps that must not hold a stopping process (a Redis that is gone
 * makes a graceful close wait forever).
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      work.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
