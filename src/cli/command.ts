import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** One `kmipd` subcommand. `run` returns the exit code. */
export interface Command {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[]): Promise<number>;
}

/** A wrong command line: reported with the command's usage and exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** node:util parseArgs, with its errors turned into UsageErrors. */
export function parseCommandLine<T extends NonNullable<ParseArgsConfig['options']>>(
  args: readonly string[],
  options: T,
): ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>> {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** Reads a file, or standard input for '-'. */
export async function readInput(path: string): Promise<Buffer> {
  if (path !== '-') return readFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What a subcommand of a command (`pki issue-client`, `users add`) shows in the usage. */
export interface Subcommand {
  readonly name: string;
  readonly usage: string;
  readonly summary: string;
}

/** The usage lines of a command made of subcommands. */
export function subcommandUsage(command: string, subcommands: readonly Subcommand[]): string {
  return subcommands.map((subcommand) => `${command} ${subcommand.usage}`).join('\n  kmipd ');
}

/** The one-line summary of a command made of subcommands. */
export function subcommandSummary(title: string, subcommands: readonly Subcommand[]): string {
  return `${title}: ${subcommands.map((subcommand) => `${subcommand.name}: ${subcommand.summary}`).join('; ')}`;
}

/** The subcommand the first argument names, and the arguments after it; a UsageError naming the known ones. */
export function pickSubcommand<S extends Subcommand>(
  subcommands: readonly S[],
  args: readonly string[],
): { subcommand: S; rest: string[] } {
  const [name, ...rest] = args;
  if (name === undefined) throw new UsageError('a subcommand is needed');
  const subcommand = subcommands.find((candidate) => candidate.name === name);
  if (!subcommand) {
    const known = subcommands.map((candidate) => candidate.name).join(', ');
    throw new UsageError(`unknown subcommand '${name}' (known: ${known})`);
  }
  return { subcommand, rest };
}
