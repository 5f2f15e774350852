/**
 * A real appliance for tests: SoftHSM2 token, LevelDB store and lab PKI in a fresh temporary data directory, the
 * mutual-TLS listener on a free port of 127.0.0.1. Nothing is faked.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAppliance, type Appliance } from '../../src/appliance/appliance.js';
import { resolveConfig, type IdentitySettings } from '../../src/appliance/config.js';
import { issueClientCertificate } from '../../src/pki/lab-pki.js';
import type { ServerLimits } from '../../src/server/limits.js';

export interface TestAppliance {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** The KMIP over HTTPS port, when started with `https: true`. */
  readonly httpsPort: number | undefined;
  readonly appliance: Appliance;
  /** Lab PKI files: CA, and the admin client certificate and key. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** A client certificate for another principal, key mode 0400. */
  issueClient(cn: string): Promise<{ cert: string; key: string; ca: string }>;
  stop(): Promise<void>;
  /** Stops and deletes the data directory. */
  dispose(): Promise<void>;
}

export async function startTestAppliance(
  options: {
    dataDir?: string;
    limits?: Partial<ServerLimits>;
    identity?: Partial<IdentitySettings>;
    /** Also KMIP over HTTPS, on a free port. */
    https?: boolean;
  } = {},
): Promise<TestAppliance> {
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'kmipd-test-')));
  const base = resolveConfig(
    {
      data: dataDir,
      port: '0',
      'log-level': 'warn',
      ...(options.https === true ? { 'https-port': '0' } : {}),
    },
    {},
  );
  const config = {
    ...base,
    limits: options.limits ?? {},
    identity: { ...base.identity, ...options.identity },
  };
  const appliance = await startAppliance(config, { console: false });
  const pki = appliance.pki;
  if (!pki) throw new Error('the test appliance runs on the lab PKI');
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await appliance.stop();
  };
  return {
    dataDir,
    host: appliance.address.host,
    port: appliance.address.port,
    httpsPort: appliance.httpsAddress?.port,
    appliance,
    ca: pki.ca,
    cert: pki.adminCert,
    key: pki.adminKey,
    async issueClient(cn) {
      const outDir = join(dataDir, 'clients');
      const files = await issueClientCertificate(join(dataDir, 'certs'), { cn, outDir });
      return { cert: files.cert, key: files.key, ca: files.ca };
    },
    stop,
    async dispose() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
