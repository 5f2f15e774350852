import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  checkCsr,
  csrSummary,
  DEFAULT_CSR_VALIDITY_DAYS,
  DEFAULT_MIN_RSA_BITS,
  signCsr,
} from '../pki/csr.js';
import { CERTIFICATE_MODE, readIfExists, unsafeFileNameReason, writeFileAtomic } from '../pki/files.js';
import {
  createLabCa,
  ensureLabPki,
  issueClientCertificate,
  issueServerCertificate,
  labPkiPaths,
  loadLabCa,
  REPLACING_CA_MEANS,
} from '../pki/lab-pki.js';
import { MAX_PKI_FILE_BYTES, messageOf, PkiParseError, sanInWords } from '../pki/parse.js';
import { describeCertificate, describePkiFile } from '../pki/show.js';
import { x509 } from '../pki/x509.js';
import {
  parseCommandLine,
  pickSubcommand,
  readInput,
  subcommandSummary,
  subcommandUsage,
  UsageError,
  type Command,
} from './command.js';

/** One `kmipd pki <name>` subcommand. Adding one is one table entry. */
interface PkiSubcommand {
  readonly name: string;
  /** After `pki `. */
  readonly usage: string;
  readonly summary: string;
  /** Returns the exit code; an Error other than a UsageError is reported on stderr with exit code 1. */
  run(args: readonly string[]): Promise<number>;
}

/** Where the lab CA lives, for every subcommand: --ca-dir DIR itself, or DIR/certs of --data DIR (./data). */
const CA_OPTIONS = {
  data: { type: 'string' },
  'ca-dir': { type: 'string' },
} as const;

const CA_USAGE = '[--data DIR | --ca-dir DIR]';

function certsDirOf(values: { data?: string | undefined; 'ca-dir'?: string | undefined }): string {
  const { data, 'ca-dir': caDir } = values;
  if (data !== undefined && caDir !== undefined) {
    throw new UsageError('--data and --ca-dir both say where the lab CA is: give one of them');
  }
  // The lab PKI lives in DATA/certs, beside the rest of the server's data.
  return caDir ?? join(data ?? './data', 'certs');
}

function noPositionals(positionals: readonly string[]): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals.join(' ')}'`);
}

function wholeNumber(option: string, text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`--${option} '${text}' is not a whole number of ${what} >= 1`);
  }
  return value;
}

function out(text: string): void {
  process.stdout.write(text);
}

const createCa: PkiSubcommand = {
  name: 'create-ca',
  usage: `create-ca ${CA_USAGE} [--force]`,
  summary: 'make the lab CA if there is none (--force replaces one: every client must then trust the new CA)',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, { ...CA_OPTIONS, force: { type: 'boolean' } });
    noPositionals(positionals);
    const certsDir = certsDirOf(values);
    const result = await createLabCa(certsDir, { force: values.force === true });
    if (!result.created) {
      process.stderr.write(`kmipd pki create-ca: ${result.reason}\n`);
      return 1;
    }
    const { ca, replaced } = result;
    const caPath = labPkiPaths(certsDir).ca;
    out(`made lab CA ${ca.subject} in ${caPath}, valid until ${ca.notAfter.toISOString()}\n`);
    if (replaced !== undefined) {
      out(
        `replaced the lab CA ${replaced.subject}, kept as ${replaced.cert}` +
          `${replaced.key === undefined ? '' : ` and ${replaced.key}`}: ${REPLACING_CA_MEANS}\n` +
          'restart kmipd: it then re-issues its server and admin certificates from the new CA\n',
      );
    } else {
      out(
        'clients trust this CA: give them a copy of ca.pem (kmipd makes its server certificate when it starts)\n',
      );
    }
    return 0;
  },
};

const issueServer: PkiSubcommand = {
  name: 'issue-server',
  usage: `issue-server ${CA_USAGE} --name NAME [--san DNS_OR_IP ...] --out OUTDIR [--days N]`,
  summary: 'issue a server certificate for NAME and the --san names (key mode 0600)',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...CA_OPTIONS,
      name: { type: 'string' },
      san: { type: 'string', multiple: true },
      out: { type: 'string' },
      days: { type: 'string' },
    });
    noPositionals(positionals);
    const { name, out: outDir } = values;
    if (name === undefined) throw new UsageError('--name NAME is needed');
    if (outDir === undefined) throw new UsageError('--out OUTDIR is needed');
    const unsafe = unsafeFileNameReason(name);
    if (unsafe !== undefined)
      throw new UsageError(`--name '${name}' cannot be used as a file name: ${unsafe}`);
    const validityDays = wholeNumber('days', values.days, 'days');
    const files = await issueServerCertificate(certsDirOf(values), {
      name,
      outDir,
      sans: values.san ?? [],
      ...(validityDays === undefined ? {} : { validityDays }),
    });
    out(
      `wrote ${files.cert} (CN=${name}, serverAuth, names ${files.names.map(sanInWords).join(', ')}, ` +
        `valid until ${files.notAfter.toISOString()})\n` +
        `wrote ${files.key} (private key, mode 0600)\n` +
        `wrote ${files.ca} (the lab CA that signed it)\n`,
    );
    return 0;
  },
};

const issueClient: PkiSubcommand = {
  name: 'issue-client',
  usage: `issue-client ${CA_USAGE} --cn NAME --out OUTDIR [--days N] [--no-client-auth]`,
  summary:
    'issue a client certificate signed by the lab CA (made first if absent); --no-client-auth makes one the ' +
    'server must refuse, for drills',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...CA_OPTIONS,
      cn: { type: 'string' },
      out: { type: 'string' },
      days: { type: 'string' },
      'no-client-auth': { type: 'boolean' },
    });
    noPositionals(positionals);
    const { cn, out: outDir } = values;
    if (cn === undefined) throw new UsageError('--cn NAME is needed');
    if (outDir === undefined) throw new UsageError('--out OUTDIR is needed');
    // Checked here too so that a bad name fails before anything (the lab PKI included) is made.
    const unsafe = unsafeFileNameReason(cn);
    if (unsafe !== undefined) throw new UsageError(`--cn '${cn}' cannot be used as a file name: ${unsafe}`);
    const validityDays = wholeNumber('days', values.days, 'days');
    const clientAuth = values['no-client-auth'] !== true;
    const certsDir = certsDirOf(values);
    const lab = await ensureLabPki(certsDir);
    for (const what of lab.made) out(`made ${what} in ${certsDir}\n`);
    const files = await issueClientCertificate(certsDir, {
      cn,
      outDir,
      clientAuth,
      ...(validityDays === undefined ? {} : { validityDays }),
    });
    const usage = clientAuth ? 'clientAuth' : 'serverAuth only, NO clientAuth: the server must refuse it';
    out(
      `wrote ${files.cert} (CN=${cn}, ${usage}, valid until ${files.notAfter.toISOString()})\n` +
        `wrote ${files.key} (private key, mode 0400)\n` +
        `wrote ${files.ca} (the lab CA the server trusts)\n`,
    );
    return 0;
  },
};

/** Reads a certificate or CSR file, refusing one far larger than any certificate before reading it whole. */
async function readPkiFile(path: string): Promise<Buffer> {
  const data = await readInput(path);
  if (data.length > MAX_PKI_FILE_BYTES) {
    throw new PkiParseError(
      `${path} is ${data.length} bytes; a certificate or CSR is at most ${MAX_PKI_FILE_BYTES}`,
    );
  }
  return data;
}

const signCsrCommand: PkiSubcommand = {
  name: 'sign-csr',
  usage:
    `sign-csr ${CA_USAGE} --csr FILE --out FILE [--expect-cn NAME] [--days N] [--min-rsa-bits 2048] ` +
    '[--allow-no-client-auth]',
  summary:
    'sign a PKCS#10 CSR with the lab CA after policy checks (CN equal to --expect-cn, key size, clientAuth, ' +
    'signature); every violation is named and nothing is written',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...CA_OPTIONS,
      csr: { type: 'string' },
      out: { type: 'string' },
      'expect-cn': { type: 'string' },
      days: { type: 'string' },
      'min-rsa-bits': { type: 'string' },
      'allow-no-client-auth': { type: 'boolean' },
    });
    noPositionals(positionals);
    const { csr: csrPath, out: outPath } = values;
    if (csrPath === undefined) throw new UsageError('--csr FILE is needed');
    if (outPath === undefined) throw new UsageError('--out FILE is needed');
    const validityDays = wholeNumber('days', values.days, 'days') ?? DEFAULT_CSR_VALIDITY_DAYS;
    const minRsaBits = wholeNumber('min-rsa-bits', values['min-rsa-bits'], 'bits') ?? DEFAULT_MIN_RSA_BITS;
    const certsDir = certsDirOf(values);
    const paths = labPkiPaths(certsDir);
    const labFiles = [
      paths.ca,
      paths.caKey,
      paths.serverCert,
      paths.serverKey,
      paths.adminCert,
      paths.adminKey,
    ];
    if (labFiles.some((path) => resolve(path) === resolve(outPath))) {
      throw new UsageError(
        `--out ${outPath} is a file of the lab PKI itself; write the certificate elsewhere`,
      );
    }
    const expectCn = values['expect-cn'];

    let check;
    try {
      check = await checkCsr(await readPkiFile(csrPath), {
        minRsaBits,
        allowNoClientAuth: values['allow-no-client-auth'] === true,
        ...(expectCn === undefined ? {} : { expectCn }),
      });
    } catch (error) {
      if (error instanceof PkiParseError) {
        process.stderr.write(`kmipd pki sign-csr: ${csrPath}: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    if (check.violations.length > 0) {
      const count =
        check.violations.length === 1 ? 'a policy violation' : `${check.violations.length} policy violations`;
      process.stderr.write(
        `kmipd pki sign-csr: refused to sign ${csrPath} (${csrSummary(check)}), ${count}; nothing was written:\n` +
          check.violations.map((violation) => `  - ${violation}\n`).join(''),
      );
      return 1;
    }

    let ca;
    try {
      ca = await loadLabCa(certsDir);
    } catch (error) {
      throw new Error(`${messageOf(error)}: make it first with 'kmipd pki create-ca'`, { cause: error });
    }
    const signed = await signCsr(ca, check, { validityDays });
    await mkdir(dirname(outPath), { recursive: true });
    await writeFileAtomic(outPath, signed.certPem, CERTIFICATE_MODE);
    out(`signed ${csrPath} with the lab CA ${ca.certificate.subject}: wrote ${outPath} (mode 0644)\n`);
    for (const line of describeCertificate(signed.certificate).slice(1)) out(`${line}\n`);
    for (const note of signed.notes) out(`note: ${note}\n`);
    return 0;
  },
};

const show: PkiSubcommand = {
  name: 'show',
  usage: `show FILE [--data DIR | --ca-dir DIR] [--expect-cn NAME]`,
  summary:
    'a certificate or CSR (PEM or DER) in plain words; with --data or --ca-dir, whether it was signed by that ' +
    'lab CA',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      ...CA_OPTIONS,
      'expect-cn': { type: 'string' },
    });
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError('FILE is needed');
    noPositionals(extra);
    const compare = values.data !== undefined || values['ca-dir'] !== undefined;
    let labCa: x509.X509Certificate | null | undefined;
    let labCaPath: string | undefined;
    if (compare) {
      labCaPath = labPkiPaths(certsDirOf(values)).ca;
      const pem = await readIfExists(labCaPath);
      labCa = pem === undefined ? null : new x509.X509Certificate(pem.toString());
    }
    const expectCn = values['expect-cn'];
    let lines: string[];
    try {
      lines = await describePkiFile(await readPkiFile(file), {
        ...(labCa === undefined ? {} : { labCa }),
        ...(labCaPath === undefined ? {} : { labCaPath }),
        ...(expectCn === undefined ? {} : { policy: { expectCn } }),
      });
    } catch (error) {
      if (error instanceof PkiParseError) {
        process.stderr.write(`kmipd pki show: ${file}: ${error.message}\n`);
        return 1;
      }
      throw error;
    }
    out(`${file}:\n${lines.map((line) => `${line}\n`).join('')}`);
    return 0;
  },
};

const subcommands: readonly PkiSubcommand[] = [createCa, issueServer, issueClient, signCsrCommand, show];

/** `kmipd pki <subcommand> ...`: the lab PKI (DESIGN.md, "a drill ground for client certificates"). */
export const pkiCommand: Command = {
  name: 'pki',
  usage: subcommandUsage('pki', subcommands),
  summary: subcommandSummary('the lab PKI', subcommands),
  async run(args) {
    const { subcommand, rest } = pickSubcommand(subcommands, args);
    try {
      return await subcommand.run(rest);
    } catch (error) {
      if (error instanceof UsageError) throw error;
      process.stderr.write(`kmipd pki ${subcommand.name}: ${messageOf(error)}\n`);
      return 1;
    }
  },
};
