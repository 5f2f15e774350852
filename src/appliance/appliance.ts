import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLoggers, type Loggers } from '../audit/loggers.js';
import type { Hsm } from '../hsm/hsm.js';
import {
  openPkcs11Hsm,
  type Pkcs11Hsm,
  type Pkcs11HsmOptions,
  type Pkcs11HsmReport,
} from '../hsm/pkcs11-hsm.js';
import type { RngDescription } from '../kmip-ops/context.js';
import { Dispatcher } from '../kmip-ops/dispatch.js';
import { KeyService } from '../kmip-ops/keys.js';
import { allOperations } from '../kmip-ops/operations.js';
import { ensureLabPki, type LabPkiPaths } from '../pki/lab-pki.js';
import { KmipHttpsServer } from '../server/https.js';
import { ClientActivity } from '../server/client-activity.js';
import { KmipServer } from '../server/server.js';
import { loadUsers } from '../identity/users.js';
import { openLevelStore } from '../store/level-store.js';
import type { ObjectStore } from '../store/store.js';
import type { ApplianceConfig } from './config.js';

/**
 * The composition root: data directory, lab PKI (or the given one), token, store, logs, operations and listener,
 * wired together. Everything the embedded default needs is made on first start and reused afterwards.
 */
export interface Appliance {
  readonly address: { host: string; port: number };
  /** Where KMIP over HTTPS listens (`POST /kmip`), when the configuration asks for it. */
  readonly httpsAddress: { host: string; port: number } | undefined;
  /** What this start made or found, in words, for the banner. */
  readonly made: readonly string[];
  readonly pki: LabPkiPaths | undefined;
  readonly hsmReport: Pkcs11HsmReport;
  readonly loggers: Loggers;
  stop(): Promise<void>;
}

/**
 * The generator of the embedded token: SoftHSM2 as Debian packages it (scripts/setup.sh installs it) is built on
 * OpenSSL 3 (libcrypto.so.3), whose C_GenerateRandom and key generation draw from RAND_bytes, by default a CTR_DRBG
 * over AES-256 (`openssl list -random-instances` shows CTR-DRBG, AES-256-CTR). Another PKCS#11 module's generator
 * is not known here, and Query says Unspecified for it.
 */
const embeddedTokenRng: RngDescription = { kind: 'ctr-drbg', cipher: 'AES', keyBits: 256 };

/** The token of the configuration: the embedded SoftHSM2 one in DATA/hsm, or the given PKCS#11 module. */
export function openHsm(
  config: ApplianceConfig,
  options: Pick<Pkcs11HsmOptions, 'gcmUnsealOnThread'> = {},
): Promise<Pkcs11Hsm> {
  return openPkcs11Hsm({
    ...options,
    token:
      config.pkcs11Module === undefined
        ? { kind: 'softhsm', dataDir: config.dataDir, tokenLabel: config.tokenLabel }
        : {
            kind: 'external',
            modulePath: config.pkcs11Module,
            tokenLabel: config.tokenLabel,
            userPin: process.env['KMIPD_HSM_USER_PIN'] ?? '',
          },
  });
}

/** The LevelDB store in DATA/store. */
export function openStore(config: ApplianceConfig): Promise<ObjectStore> {
  return openLevelStore(join(config.dataDir, 'store'));
}

export async function startAppliance(
  config: ApplianceConfig,
  options: { console?: boolean; now?: () => Date } = {},
): Promise<Appliance> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const made: string[] = [];
  const loggers = createLoggers({
    dataDir: config.dataDir,
    level: config.logLevel,
    console: options.console ?? true,
  });
  let pki: LabPkiPaths | undefined;
  let tls: { cert: Buffer; key: Buffer; ca: Buffer };
  if (config.tlsCert !== undefined && config.tlsKey !== undefined && config.clientCa !== undefined) {
    tls = {
      cert: await readFile(config.tlsCert),
      key: await readFile(config.tlsKey),
      ca: await readFile(config.clientCa),
    };
  } else {
    const lab = await ensureLabPki(join(config.dataDir, 'certs'));
    made.push(...lab.made);
    pki = lab.paths;
    tls = {
      cert: await readFile(pki.serverCert),
      key: await readFile(pki.serverKey),
      ca: await readFile(pki.ca),
    };
  }
  let hsm: Hsm | undefined;
  let store: ObjectStore | undefined;
  const servers: { close(): Promise<void> }[] = [];
  try {
    const activity = new ClientActivity();
    const pkcs11 = await openHsm(config, {
      // Off the event loop only when other connections' requests wait for it (Pkcs11HsmOptions.gcmUnsealOnThread).
      gcmUnsealOnThread: () => activity.activeConnections() > 1,
    });
    hsm = pkcs11;
    const hsmReport = pkcs11.report;
    if (hsmReport.token.created)
      made.push(`SoftHSM2 token '${hsmReport.token.tokenLabel}' in ${hsmReport.token.hsmDir ?? '?'}`);
    if (hsmReport.masterCreated) made.push(`master key ${hsmReport.masterLabel} inside the token`);
    store = await openStore(config);
    const services = {
      store,
      keys: new KeyService(pkcs11, store),
      log: loggers.log,
      now: options.now ?? (() => new Date()),
      ...(config.pkcs11Module === undefined && { rng: embeddedTokenRng }),
      protectionStorage: hsmReport.token.hardwareSlot ? ('Hardware' as const) : ('Software' as const),
    };
    const dispatcher = new Dispatcher({ handlers: allOperations(), services, audit: loggers.audit });
    const settings = config.identity;
    const users = settings.usersFile === undefined ? undefined : await loadUsers(settings.usersFile);
    // Both listeners share one TLS configuration, identity, dispatcher and limits.
    const listener = {
      tls,
      dispatcher,
      activity,
      log: loggers.log,
      audit: loggers.audit,
      limits: config.limits,
      identity: {
        field: settings.field,
        principalMap: settings.principalMap,
        requireClientAuthEku: settings.requireClientAuthEku,
        clientCertMode: settings.clientCertMode,
        passwordAuth: settings.passwordAuth,
        users,
        defaultRoles: settings.defaultRoles,
      },
    };
    const server = new KmipServer({ ...listener, host: config.host, port: config.port });
    const address = await server.listen();
    servers.push(server);
    let httpsAddress: Appliance['httpsAddress'];
    if (config.httpsPort !== undefined) {
      const httpsServer = new KmipHttpsServer({ ...listener, host: config.host, port: config.httpsPort });
      httpsAddress = await httpsServer.listen();
      servers.push(httpsServer);
    }
    const openedStore = store;
    return {
      address,
      httpsAddress,
      made,
      pki,
      hsmReport,
      loggers,
      async stop() {
        // Both drain their requests in flight together, before the store and token they use close.
        await Promise.all(servers.map((s) => s.close()));
        await openedStore.close();
        await pkcs11.close();
        await loggers.close();
      },
    };
  } catch (error) {
    await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
    await store?.close().catch(() => undefined);
    await hsm?.close().catch(() => undefined);
    await loggers.close();
    throw error;
  }
}
