/**
 * `kmipd drill --host H --port P --certs DIR`: the standard client-certificate drills against any KMIP server,
 * with a table of what a strict server does and what this one did. Exit 1 when a strict expectation is not met.
 */
import { readFile } from 'node:fs/promises';
import { selectDrills } from '../drill/drills.js';
import { exitStatus, formatTable, reportJson } from '../drill/report.js';
import { DEFAULT_TIMEOUT_MS, loadDrillCa, runDrills } from '../drill/run.js';
import { parseCommandLine, UsageError, type Command } from './command.js';

const KMIP_PORT = 5696;

function parsePositiveInteger(text: string, what: string, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > max) {
    throw new UsageError(`${what} must be a whole number from 1 to ${max}, not '${text}'`);
  }
  return value;
}

export const drillCommand: Command = {
  name: 'drill',
  usage:
    'drill --certs DIR [--host H] [--port P] [--username U --password P] [--cn NAME] [--server-name NAME] ' +
    '[--server-ca FILE] [--timeout MS] [--only NAME,...] [--json]',
  summary:
    'client-certificate drills against any KMIP server (DIR holds ca.pem and ca.key of the CA it trusts); ' +
    'exit 1 when a strict expectation is not met',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      host: { type: 'string' },
      port: { type: 'string' },
      certs: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      cn: { type: 'string' },
      'server-name': { type: 'string' },
      'server-ca': { type: 'string' },
      timeout: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
    if (values.certs === undefined) throw new UsageError('--certs DIR is required (ca.pem and ca.key)');
    if (values.password !== undefined && values.username === undefined) {
      throw new UsageError('--password needs --username');
    }
    const host = values.host ?? 'localhost';
    const port = values.port === undefined ? KMIP_PORT : parsePositiveInteger(values.port, '--port', 65535);
    const timeoutMs =
      values.timeout === undefined
        ? DEFAULT_TIMEOUT_MS
        : parsePositiveInteger(values.timeout, '--timeout', 600_000);
    const only = values.only
      ?.split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '');
    try {
      selectDrills(only);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }

    let loaded;
    let serverCa;
    try {
      loaded = await loadDrillCa(values.certs);
      serverCa = values['server-ca'] === undefined ? loaded.caPem : await readFile(values['server-ca']);
    } catch (error) {
      process.stderr.write(`kmipd drill: ${error instanceof Error ? error.message : String(error)}\n`);
      return 1;
    }
    const report = await runDrills({
      host,
      port,
      ca: loaded.ca,
      serverCa,
      timeoutMs,
      ...(values.username === undefined ? {} : { username: values.username }),
      ...(values.password === undefined ? {} : { password: values.password }),
      ...(values.cn === undefined ? {} : { cn: values.cn }),
      ...(values['server-name'] === undefined ? {} : { serverName: values['server-name'] }),
      ...(only === undefined ? {} : { only }),
      // Progress on a terminal's stderr, so that stdout carries only the table (or the JSON).
      onResult: (result) => {
        if (process.stderr.isTTY) process.stderr.write(`  ${result.drill.name}: ${result.verdict}\n`);
      },
    });
    process.stdout.write(
      values.json === true ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatTable(report),
    );
    return exitStatus(report);
  },
};
