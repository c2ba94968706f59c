/**
 * The CLI started as every run started before the build: the TypeScript
 * sources through tsx with every command module imported up front. Run by
 * bench/cli as `node --import tsx bench/cli/eager-start.ts <args>`.
 */
import { CommanderError } from 'commander';
import { createFullProgram } from '../../apps/cli/src/main.js';

const program = await createFullProgram({
  env: process.env,
  cwd: process.cwd(),
  interactive: false,
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  setExitCode: (code) => void (process.exitCode = code),
});
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  process.exitCode = error.exitCode;
}
