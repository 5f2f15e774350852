import { openHsm, openStore } from '../appliance/appliance.js';
import { ConfigError, resolveConfig } from '../appliance/config.js';
import { rotateMasterKey } from '../appliance/rotate-master.js';
import { StoreError } from '../store/store.js';
import { parseCommandLine, UsageError, type Command } from './command.js';

/**
 * `kmipd hsm rotate-master --data DIR`: a new master key in the token and every owner KEK rewrapped under it; the
 * objects themselves are not touched. Run it with the server stopped: the store allows one process at a time.
 */
export const hsmCommand: Command = {
  name: 'hsm',
  usage: 'hsm rotate-master [--data DIR] [--pkcs11-module SO] [--token-label L]',
  summary: 'key hierarchy maintenance: rotate the master key inside the token',
  async run(args) {
    const [sub, ...rest] = args;
    if (sub !== 'rotate-master') throw new UsageError(`unknown hsm subcommand '${sub ?? ''}'`);
    const { values, positionals } = parseCommandLine(rest, {
      data: { type: 'string' },
      'pkcs11-module': { type: 'string' },
      'token-label': { type: 'string' },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0] ?? ''}'`);
    let config;
    try {
      config = resolveConfig(values);
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    let store;
    try {
      store = await openStore(config);
    } catch (error) {
      if (error instanceof StoreError && error.code === 'io') {
        process.stderr.write(
          `kmipd hsm rotate-master: cannot open the store in ${config.dataDir}: is the server running? Stop it first.\n`,
        );
        return 1;
      }
      throw error;
    }
    const hsm = await openHsm(config);
    try {
      const report = await rotateMasterKey(hsm, store);
      process.stdout.write(
        `master key rotated: ${report.previous} -> ${report.current}; ${report.rewrapped} owner KEKs rewrapped; ` +
          `retired: ${report.retired.join(', ') || 'none'}\n`,
      );
      return 0;
    } finally {
      await store.close();
      await hsm.close();
    }
  },
};
