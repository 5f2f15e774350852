/**
 * `kmipd` command line. Each command lives in its own file and is looked up in one table, so adding a command is
 * one line here. Exit codes: 0 success, 1 the input or the operation failed, 2 the command line was wrong.
 */
import { conformanceCommand } from './conformance.js';
import { decodeCommand } from './decode.js';
import { drillCommand } from './drill.js';
import { encodeCommand } from './encode.js';
import { hsmCommand } from './hsm.js';
import { pkiCommand } from './pki.js';
import { startCommand } from './start.js';
import { usersCommand } from './users.js';
import { UsageError, type Command } from './command.js';

const commands: readonly Command[] = [
  startCommand,
  pkiCommand,
  usersCommand,
  drillCommand,
  conformanceCommand,
  hsmCommand,
  encodeCommand,
  decodeCommand,
];

function usage(): string {
  const lines = commands.map((command) => `  kmipd ${command.usage}\n      ${command.summary}`);
  return `usage:\n${lines.join('\n')}\n`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`kmipd: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`kmipd ${command.name}: ${error.message}\nusage: kmipd ${command.usage}\n`);
      return 2;
    }
    throw error;
  }
}

// A reader that stops early (`kmipd encode ... | head -1`) is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

process.exitCode = await main(process.argv.slice(2));
