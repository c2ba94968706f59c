// Worker-thread entry of `differad synth --jobs N`: loads the TypeScript
// worker through tsx, as the CLI's own entry point does.
import { register } from 'tsx/esm/api';

register();
await import('./synth-worker.ts');
