import { startAppliance } from '../appliance/appliance.js';
import { ConfigError, resolveConfig, settings } from '../appliance/config.js';
import { parseCommandLine, UsageError, type Command } from './command.js';

const options = Object.fromEntries([
  ...settings.map(
    (s) => [s.flag, { type: s.flag === 'require-client-auth-eku' ? 'boolean' : 'string' }] as const,
  ),
  ['config', { type: 'string' }] as const,
]) as Record<
  Exclude<(typeof settings)[number]['flag'], 'require-client-auth-eku'> | 'config',
  { type: 'string' }
> &
  Record<'require-client-auth-eku', { type: 'boolean' }>;

/**
 * `kmipd start`: the KMIP server on its embedded default (data directory ./data: SoftHSM2 token, LevelDB store and
 * lab PKI made on first start) or on the given settings. SIGTERM and SIGINT finish the requests in flight, then exit.
 */
export const startCommand: Command = {
  name: 'start',
  usage:
    'start [--data DIR] [--host H] [--port P] [--https-port P] [--tls-cert F --tls-key F --client-ca F] [--pkcs11-module SO] [--token-label L] [--log-level L] [--config FILE]',
  summary: 'run the KMIP server (embedded default: ./data)',
  async run(args) {
    const { values, positionals } = parseCommandLine(args, options);
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
    let config;
    try {
      const { 'require-client-auth-eku': eku, ...strings } = values;
      config = resolveConfig(
        { ...strings, ...(eku === true ? { 'require-client-auth-eku': 'true' } : {}) },
        process.env,
        values.config,
      );
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    const appliance = await startAppliance(config);
    const out = (line: string): void => {
      process.stdout.write(`${line}\n`);
    };
    for (const thing of appliance.made) out(`made: ${thing}`);
    const { host, port } = appliance.address;
    out(`kmipd listening on ${host}:${port} (KMIP 1.0-2.1 over mutual TLS), data in ${config.dataDir}`);
    if (appliance.httpsAddress) {
      const https = appliance.httpsAddress;
      out(
        `KMIP over HTTPS on ${https.host}:${https.port}: POST /kmip with TTLV, KMIP XML or KMIP JSON, same client certificates`,
      );
    }
    if (appliance.pki) {
      out(
        `connect with: CA ${appliance.pki.ca}, client certificate ${appliance.pki.adminCert}, key ${appliance.pki.adminKey}`,
      );
      out(
        `more client certificates: npx kmipd pki issue-client --data ${config.dataDir} --cn NAME --out DIR`,
      );
    }
    await new Promise<void>((resolve) => {
      const stop = (signal: string): void => {
        out(`${signal}: finishing requests in flight`);
        void appliance.stop().then(resolve);
      };
      process.once('SIGTERM', () => {
        stop('SIGTERM');
      });
      process.once('SIGINT', () => {
        stop('SIGINT');
      });
    });
    out('kmipd stopped');
    return 0;
  },
};
