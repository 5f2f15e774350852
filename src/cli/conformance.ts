/**
 * `kmipd conformance run [--host H --port P [--https-port P] --certs DIR | --embedded] PATH...`: the OASIS KMIP XML
 * vectors against a server, with a table per profile and version (the MSGENC profiles over HTTPS). Exit 1 when any
 * vector fails.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startAppliance } from '../appliance/appliance.js';
import { resolveConfig } from '../appliance/config.js';
import { labPkiPaths, loadLabCa } from '../pki/lab-pki.js';
import { connectFor, type ClientCredentials, type ServerTarget } from '../conformance/client.js';
import { FileIdentities } from '../conformance/identities.js';
import { DEFAULT_WINDOW_SECONDS } from '../conformance/compare.js';
import { describeOutcome, formatReport, reportJson } from '../conformance/report.js';
import { runVectors } from '../conformance/runner.js';
import { defaultSkipListPath, loadSkipList } from '../conformance/skip-list.js';
import { findVectorFiles } from '../conformance/vectors.js';
import { messageToXml } from '../kmip/text-messages.js';
import {
  parseCommandLine,
  pickSubcommand,
  subcommandSummary,
  subcommandUsage,
  UsageError,
  type Command,
  type Subcommand,
} from './command.js';

const KMIP_PORT = 5696;

const subcommands: readonly Subcommand[] = [
  {
    name: 'run',
    usage:
      'run [--host H] [--port P] [--https-port P] --certs DIR | --embedded  [--skip-list FILE] [--window SECONDS] [--json] [--show-answers] PATH...',
    summary:
      'run OASIS KMIP XML vector files (or folders of them) against a server (DIR holds ca.pem, admin.pem, ' +
      'admin.key) or a temporary embedded one; the MSGENC profiles go over HTTPS (--https-port, or the embedded ' +
      "server's); exit 1 on any failure",
  },
];

function parseWhole(text: string, what: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not '${text}'`);
  }
  return value;
}

async function run(args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommandLine(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    'https-port': { type: 'string' },
    certs: { type: 'string' },
    embedded: { type: 'boolean' },
    'skip-list': { type: 'string' },
    window: { type: 'string' },
    json: { type: 'boolean' },
    'show-answers': { type: 'boolean' },
  });
  if (positionals.length === 0) throw new UsageError('give at least one vector file or folder');
  const embedded = values.embedded === true;
  if (
    embedded &&
    (values.host !== undefined ||
      values.port !== undefined ||
      values['https-port'] !== undefined ||
      values.certs !== undefined)
  ) {
    throw new UsageError(
      '--embedded starts its own server: it takes no --host, --port, --https-port or --certs',
    );
  }
  if (!embedded && values.certs === undefined) throw new UsageError('--certs DIR or --embedded is required');
  const windowSeconds =
    values.window === undefined ? DEFAULT_WINDOW_SECONDS : parseWhole(values.window, '--window', 86_400);

  const fail = (error: unknown): number => {
    process.stderr.write(`kmipd conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  };
  let vectors;
  let skipList;
  try {
    vectors = await findVectorFiles(positionals);
    skipList = await loadSkipList(values['skip-list'] ?? defaultSkipListPath);
  } catch (error) {
    return fail(error);
  }

  let target: ServerTarget;
  let credentials: ClientCredentials;
  let stop = (): Promise<void> => Promise.resolve();
  let identities: FileIdentities | undefined;
  try {
    if (embedded) {
      const dataDir = await mkdtemp(join(tmpdir(), 'kmipd-conformance-'));
      stop = async () => {
        await rm(dataDir, { recursive: true, force: true });
      };
      // Only the data dir and free ports (KMIP over HTTPS too, for the MSGENC profiles): the environment must not
      // point the throwaway server elsewhere.
      const config = resolveConfig({ data: dataDir, port: '0', 'https-port': '0', 'log-level': 'warn' }, {});
      const appliance = await startAppliance(config, { console: false });
      stop = async () => {
        await appliance.stop();
        await rm(dataDir, { recursive: true, force: true });
      };
      const pki = appliance.pki;
      if (!pki) throw new Error('the embedded server has no lab PKI');
      target = { ttlv: appliance.address, https: appliance.httpsAddress };
      credentials = {
        ca: await readFile(pki.ca),
        cert: await readFile(pki.adminCert),
        key: await readFile(pki.adminKey),
      };
      // Each profile and version as a principal of its own (identities.ts): they cannot see each other's objects.
      identities = new FileIdentities(await loadLabCa(dirname(pki.ca)), credentials.ca);
    } else {
      const paths = labPkiPaths(values.certs ?? '.');
      const host = values.host ?? 'localhost';
      const httpsPort = values['https-port'];
      target = {
        ttlv: {
          host,
          port: values.port === undefined ? KMIP_PORT : parseWhole(values.port, '--port', 65535),
        },
        https:
          httpsPort === undefined ? undefined : { host, port: parseWhole(httpsPort, '--https-port', 65535) },
      };
      credentials = {
        ca: await readFile(paths.ca),
        cert: await readFile(paths.adminCert),
        key: await readFile(paths.adminKey),
      };
    }
  } catch (error) {
    if (error instanceof UsageError) throw error;
    await stop().catch(() => undefined);
    return fail(error);
  }

  try {
    const outcomes = await runVectors(vectors, {
      connect: async (vector) =>
        connectFor(vector, target, identities ? await identities.for(vector) : credentials),
      skipList,
      windowSeconds,
      // A line per file on stderr, so that stdout carries only the report.
      onOutcome: (outcome, index, total) => {
        const detail = outcome.verdict === 'passed' ? '' : ` (${describeOutcome(outcome)})`;
        process.stderr.write(`[${index + 1}/${total}] ${outcome.vector.key}: ${outcome.verdict}${detail}\n`);
        // The whole answer that differed, as KMIP XML, to read beside the vector's ResponseMessage.
        if (values['show-answers'] === true && outcome.answer !== undefined) {
          process.stderr.write(
            `server's answer to message ${String(outcome.message ?? '?')}:\n${messageToXml(outcome.answer)}\n`,
          );
        }
      },
    });
    process.stdout.write(
      values.json === true ? `${JSON.stringify(reportJson(outcomes), null, 2)}\n` : formatReport(outcomes),
    );
    return outcomes.some((outcome) => outcome.verdict === 'failed') ? 1 : 0;
  } finally {
    await stop();
  }
}

export const conformanceCommand: Command = {
  name: 'conformance',
  usage: subcommandUsage('conformance', subcommands),
  summary: subcommandSummary('OASIS KMIP conformance vectors', subcommands),
  async run(args) {
    const { subcommand, rest } = pickSubcommand(subcommands, args);
    switch (subcommand.name) {
      case 'run':
        return run(rest);
      default:
        throw new UsageError(`unknown subcommand '${subcommand.name}'`);
    }
  },
};
