/**
 * A KmipServer on the lab PKI with a dispatcher of the test's own (no token, no store): for tests of the listener
 * itself. The PKI lives in a temporary directory removed at teardown, with the server.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { Dispatcher } from '../../src/kmip-ops/dispatch.js';
import { ensureLabPki } from '../../src/pki/lab-pki.js';
import type { ListenerOptions } from '../../src/server/mutual-tls.js';
import { KmipServer } from '../../src/server/server.js';

export interface BareServer {
  readonly port: number;
  /** The admin client's files, for TestKmipClient.connect. */
  readonly files: { ca: string; cert: string; key: string };
}

export async function startBareServer(
  t: ExecutionContext,
  options: Partial<Omit<ListenerOptions, 'tls' | 'dispatcher'>> & { dispatcher: Pick<Dispatcher, 'handle'> },
): Promise<BareServer> {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-bare-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const { paths } = await ensureLabPki(join(dir, 'certs'));
  const server = new KmipServer({
    host: '127.0.0.1',
    port: 0,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    ...options,
    tls: {
      cert: readFileSync(paths.serverCert),
      key: readFileSync(paths.serverKey),
      ca: readFileSync(paths.ca),
    },
    dispatcher: options.dispatcher as Dispatcher,
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  return { port, files: { ca: paths.ca, cert: paths.adminCert, key: paths.adminKey } };
}
