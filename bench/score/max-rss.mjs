// Preloaded into a `differad` child (node --import) by bench/score: prints the
// process's peak resident set on exit, so the bench reads it without /usr/bin/time.
process.on('exit', () => {
  process.stderr.write(`\nmax-rss-kb ${process.resourceUsage().maxRSS}\n`);
});
