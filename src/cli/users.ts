import { StringDecoder } from 'node:string_decoder';
import {
  addUser,
  isRole,
  loadUsers,
  removeUser,
  roles,
  userExists,
  UsersFileError,
} from '../identity/users.js';
import {
  parseCommandLine,
  pickSubcommand,
  subcommandSummary,
  subcommandUsage,
  UsageError,
  type Command,
} from './command.js';

/**
 * `kmipd users add|list|remove`: the users file of `--users FILE` (format in src/identity/users.ts). Passwords are
 * read without echo from a terminal, or as the first line of standard input with --password-stdin, and never
 * printed; `list` shows whether a password is set, never the hash.
 */

/** The streams the command uses; tests pass their own, the command line uses the process's. */
export interface UsersIo {
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean; setRawMode?(raw: boolean): unknown };
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

const processIo = (): UsersIo => ({ stdin: process.stdin, stdout: process.stdout, stderr: process.stderr });

/** One `kmipd users <name>` subcommand; adding one is one table entry. */
interface UsersSubcommand {
  readonly name: string;
  /** After `users `. */
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[], io: UsersIo): Promise<number>;
}

/** The user typed Ctrl-C or Ctrl-D at a password prompt. */
class Cancelled extends Error {}

/** A password line longer than this is not a password but a mistake (a file piped in by accident). */
const maxPasswordBytes = 4096;

/**
 * The first line of `input`, without its line end (LF, or CRLF from a Windows tool); nothing else is trimmed, since
 * spaces can be part of a password. Reading stops at the first line end.
 */
export async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk);
    const end = bytes.indexOf(0x0a);
    chunks.push(end === -1 ? bytes : bytes.subarray(0, end));
    size += end === -1 ? bytes.length : end;
    if (size > maxPasswordBytes)
      throw new Error(`the password line is longer than ${maxPasswordBytes} bytes`);
    if (end !== -1) break;
  }
  let line = Buffer.concat(chunks);
  if (line.at(-1) === 0x0d) line = line.subarray(0, -1);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(line);
  } catch {
    throw new Error('the password is not UTF-8 text');
  } finally {
    for (const chunk of chunks) chunk.fill(0);
  }
}

/**
 * One line typed on a terminal, not echoed: raw mode, so every key arrives here and nothing is shown. Backspace
 * and Ctrl-U edit, Enter ends, Ctrl-C and Ctrl-D (on an empty line) cancel, other control keys are ignored.
 */
export async function readHiddenLine(io: UsersIo, prompt: string): Promise<string> {
  const { stdin } = io;
  io.stderr.write(prompt);
  stdin.setRawMode?.(true);
  try {
    return await new Promise<string>((resolve, reject) => {
      const decoder = new StringDecoder('utf8');
      let typed: string[] = [];
      const finish = (): void => {
        stdin.off('data', onData);
        stdin.off('end', onEnd);
        stdin.pause();
      };
      const onEnd = (): void => {
        finish();
        reject(new Cancelled('end of input at the password prompt'));
      };
      const onData = (chunk: Buffer | string): void => {
        // Arrow and function keys arrive as escape sequences; none of their characters belongs to a password.
        const text = (typeof chunk === 'string' ? chunk : decoder.write(chunk)).replace(
          // eslint-disable-next-line no-control-regex -- matching terminal escape sequences
          /\u001b(\[[0-9;]*)?./g,
          '',
        );
        for (const char of text) {
          if (char === '\r' || char === '\n') {
            finish();
            resolve(typed.join(''));
            return;
          }
          if (char === '\u0003' || (char === '\u0004' && typed.length === 0)) {
            finish();
            reject(new Cancelled('cancelled'));
            return;
          }
          if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
          else if (char === '\u0015') typed = [];
          else if (char >= ' ') typed.push(char);
        }
      };
      stdin.on('data', onData);
      stdin.on('end', onEnd);
      stdin.resume();
    });
  } finally {
    stdin.setRawMode?.(false);
    io.stderr.write('\n');
  }
}

/** The password for `add`: from standard input's first line, or typed twice on the terminal. */
async function readNewPassword(io: UsersIo, fromStdin: boolean, name: string): Promise<string> {
  if (fromStdin) return readFirstLine(io.stdin);
  const first = await readHiddenLine(io, `password for ${name}: `);
  // An empty first answer is refused by the caller; no point asking for it twice.
  if (first === '') return first;
  const second = await readHiddenLine(io, `password for ${name} (again): `);
  if (first !== second) throw new Error('the two passwords differ');
  return first;
}

function usersPath(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--users FILE is needed');
  return value;
}

function oneName(positionals: readonly string[], what: string): string {
  const [name, ...extra] = positionals;
  if (name === undefined) throw new UsageError(`the ${what} NAME is needed`);
  if (extra.length > 0) throw new UsageError(`unexpected argument '${extra.join(' ')}'`);
  return name;
}

const add: UsersSubcommand = {
  name: 'add',
  usage:
    'add NAME --role ROLE [--role ROLE2] [--group G] --users FILE [--password-stdin | --no-password] [--replace]',
  summary: 'add a user with roles and a password (asked for, or the first line of standard input)',
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, {
      role: { type: 'string', multiple: true },
      group: { type: 'string', multiple: true },
      users: { type: 'string' },
      'password-stdin': { type: 'boolean' },
      'no-password': { type: 'boolean' },
      replace: { type: 'boolean' },
    });
    const name = oneName(positionals, 'user');
    const path = usersPath(values.users);
    const wanted = values.role ?? [];
    const groups = values.group ?? [];
    for (const role of wanted) {
      if (!isRole(role)) throw new UsageError(`unknown role '${role}' (known: ${roles.join(', ')})`);
    }
    if (wanted.length === 0 && groups.length === 0) {
      throw new UsageError(`at least one --role (${roles.join(', ')}) or --group is needed`);
    }
    const fromStdin = values['password-stdin'] === true;
    const noPassword = values['no-password'] === true;
    if (fromStdin && noPassword)
      throw new UsageError('--password-stdin and --no-password exclude each other');
    if (!fromStdin && !noPassword && io.stdin.isTTY !== true) {
      throw new UsageError('standard input is not a terminal: use --password-stdin (or --no-password)');
    }
    try {
      // Before the prompt: typing a password twice only to learn the name is taken, or the file broken, is a chore.
      if (values.replace !== true && (await userExists(path, name))) {
        throw new Error(`${path}: user '${name}' already exists (--replace to replace it)`);
      }
      let password: string | undefined;
      if (!noPassword) {
        password = await readNewPassword(io, fromStdin, name);
        if (password === '') throw new Error('an empty password is refused');
      }
      const result = await addUser(path, {
        name,
        ...(password === undefined ? {} : { password }),
        roles: wanted,
        groups,
        replace: values.replace === true,
      });
      if (result.createdFile) io.stdout.write(`created ${path} (mode 0600)\n`);
      for (const group of result.createdGroups) {
        io.stdout.write(`added group '${group}' with no roles: give it roles under "groups" in ${path}\n`);
      }
      io.stdout.write(
        `${result.replaced ? 'replaced' : 'added'} user '${name}': roles ${wanted.join(', ') || 'none'}` +
          `${groups.length > 0 ? `, groups ${groups.join(', ')}` : ''}, ` +
          `${password === undefined ? 'no password (certificate only)' : 'password set'}\n`,
      );
      return 0;
    } catch (error) {
      if (error instanceof Cancelled) {
        io.stderr.write(`kmipd users add: ${error.message}\n`);
        return 130;
      }
      // Messages from here never hold the password: the reader and addUser are written not to quote it.
      io.stderr.write(`kmipd users add: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
  },
};

const list: UsersSubcommand = {
  name: 'list',
  usage: 'list --users FILE',
  summary: 'show users (roles, groups, whether a password is set), groups and grants; never hashes',
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, { users: { type: 'string' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals.join(' ')}'`);
    const path = usersPath(values.users);
    let users;
    try {
      users = await loadUsers(path);
    } catch (error) {
      if (!(error instanceof UsersFileError)) throw error;
      io.stderr.write(`kmipd users list: ${error.message}\n`);
      return 1;
    }
    for (const warning of users.warnings) io.stderr.write(`kmipd users list: warning: ${warning}\n`);
    const rows = [
      ['NAME', 'ROLES', 'GROUPS', 'PASSWORD'],
      ...users
        .list()
        .map((user) => [
          user.name,
          user.roles.join(',') || '-',
          user.groups.join(',') || '-',
          user.hasPassword ? 'set' : 'none',
        ]),
    ];
    const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
    for (const row of rows) {
      io.stdout.write(
        `${row
          .map((cell, column) => cell.padEnd(widths[column] ?? 0))
          .join('  ')
          .trimEnd()}\n`,
      );
    }
    const groups = users.groups();
    if (groups.length > 0) {
      io.stdout.write('\ngroups:\n');
      for (const group of groups) io.stdout.write(`  ${group.name}: ${group.roles.join(',') || '-'}\n`);
    }
    const grants = users.grants();
    if (grants.length > 0) {
      io.stdout.write('\ngrants (reader may read the objects of owner):\n');
      for (const grant of grants) {
        io.stdout.write(`  ${grant.owner} -> ${'to' in grant ? grant.to : `group ${grant.toGroup}`}\n`);
      }
    }
    return 0;
  },
};

const remove: UsersSubcommand = {
  name: 'remove',
  usage: 'remove NAME --users FILE',
  summary: 'remove a user (grants naming it stay)',
  async run(args, io) {
    const { values, positionals } = parseCommandLine(args, { users: { type: 'string' } });
    const name = oneName(positionals, 'user');
    const path = usersPath(values.users);
    try {
      await removeUser(path, name);
    } catch (error) {
      if (!(error instanceof UsersFileError)) throw error;
      io.stderr.write(`kmipd users remove: ${error.message}\n`);
      return 1;
    }
    io.stdout.write(`removed user '${name}' from ${path}\n`);
    return 0;
  },
};

const subcommands: readonly UsersSubcommand[] = [add, list, remove];

/** The `users` command over the given streams (the process's by default). */
export function createUsersCommand(io: () => UsersIo = processIo): Command {
  return {
    name: 'users',
    usage: subcommandUsage('users', subcommands),
    summary: subcommandSummary('the users file', subcommands),
    async run(args) {
      const { subcommand, rest } = pickSubcommand(subcommands, args);
      return subcommand.run(rest, io());
    },
  };
}

export const usersCommand: Command = createUsersCommand();
