import type { Command } from 'commander';
import type { CliIo } from '../cli-io.js';
import { helpText } from '../help-text.js';
import { registerDataImportCommands } from './data-import.js';
import { registerDataInspectCommands } from './data-inspect.js';
import { registerDataSplitCommand } from './data-split.js';

function configureTree(command: Command, io: CliIo): void {
  for (const sub of command.commands) {
    sub.exitOverride().configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) });
    configureTree(sub, io);
  }
}

/** Registers `differad data` (import, export, validate, stats, preview, split) on the program. */
export function registerDataCommand(program: Command, io: CliIo): void {
  const data = program
    .command('data')
    .summary('import datasets into manifests; validate, summarize, preview and split manifests')
    .description('Turns anomaly datasets into paired-image manifests (docs/method.md §10) and inspects manifests.')
    .addHelpText(
      'after',
      helpText(
        '\nExamples:\n' +
          '  differad data import deeppcb --root ~/data/DeepPCB/PCBData --out data/deeppcb\n' +
          '  differad data validate data/deeppcb/manifest.jsonl\n' +
          '  differad data stats data/deeppcb/manifest.jsonl\n' +
          '  differad data preview data/deeppcb/manifest.jsonl --out previews\n' +
          '  differad data split data/deeppcb/manifest.jsonl --out data/deeppcb --heldout 0.2',
      ),
    );
  registerDataImportCommands(data, io);
  registerDataInspectCommands(data, io);
  registerDataSplitCommand(data, io);
  configureTree(data, io);
}
