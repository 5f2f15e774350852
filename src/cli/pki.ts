import { join } from 'node:path';
import { unsafeFileNameReason } from '../pki/files.js';
import { ensureLabPki, issueClientCertificate } from '../pki/lab-pki.js';
import { parseCommandLine, UsageError, type Command } from './command.js';

/** One `kmipd pki <name>` subcommand. Adding one (create-ca, issue-server, sign-csr, show) is one table entry. */
interface PkiSubcommand {
  readonly name: string;
  /** After `pki `. */
  readonly usage: string;
  readonly summary: string;
  run(args: readonly string[]): Promise<number>;
}

/** The lab PKI lives in DATA/certs, beside the rest of the server's data. */
function certsDirOf(dataDir: string): string {
  return join(dataDir, 'certs');
}

function positiveDays(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const days = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(days) || days < 1) {
    throw new UsageError(`--days '${text}' is not a whole number of days >= 1`);
  }
  return days;
}

const issueClient: PkiSubcommand = {
  name: 'issue-client',
  usage: 'issue-client --data DIR --cn NAME --out OUTDIR [--days N]',
  summary: 'issue a client certificate signed by the lab CA of DIR/certs (made first if absent)',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      data: { type: 'string' },
      cn: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals.join(' ')}'`);
    const { data, cn, out } = values;
    if (data === undefined) throw new UsageError('--data DIR is needed');
    if (cn === undefined) throw new UsageError('--cn NAME is needed');
    if (out === undefined) throw new UsageError('--out OUTDIR is needed');
    // Checked here too so that a bad name fails before anything (the lab PKI included) is made.
    const unsafe = unsafeFileNameReason(cn);
    if (unsafe !== undefined) throw new UsageError(`--cn '${cn}' cannot be used as a file name: ${unsafe}`);
    const validityDays = positiveDays(values.days);
    const certsDir = certsDirOf(data);
    try {
      const lab = await ensureLabPki(certsDir);
      for (const what of lab.made) process.stdout.write(`made ${what} in ${certsDir}\n`);
      const files = await issueClientCertificate(certsDir, {
        cn,
        outDir: out,
        ...(validityDays === undefined ? {} : { validityDays }),
      });
      process.stdout.write(
        `wrote ${files.cert} (CN=${cn}, clientAuth, valid until ${files.notAfter.toISOString()})\n` +
          `wrote ${files.key} (private key, mode 0400)\n` +
          `wrote ${files.ca} (the lab CA the server trusts)\n`,
      );
      return 0;
    } catch (error) {
      process.stderr.write(
        `kmipd pki issue-client: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      return 1;
    }
  },
};

const subcommands: readonly PkiSubcommand[] = [issueClient];

/** `kmipd pki <subcommand> ...`: the lab PKI (DESIGN.md, "a drill ground for client certificates"). */
export const pkiCommand: Command = {
  name: 'pki',
  usage: subcommands.map((subcommand) => `pki ${subcommand.usage}`).join('\n  kmipd '),
  summary: `the lab PKI: ${subcommands.map((subcommand) => `${subcommand.name}: ${subcommand.summary}`).join('; ')}`,
  async run(args) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError('a subcommand is needed');
    const subcommand = subcommands.find((candidate) => candidate.name === name);
    if (!subcommand) {
      const known = subcommands.map((candidate) => candidate.name).join(', ');
      throw new UsageError(`unknown subcommand '${name}' (known: ${known})`);
    }
    return subcommand.run(rest);
  },
};
