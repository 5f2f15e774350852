/**
 * Barbican's KMIPSecretStore with username and password against a server in "session and username" mode (ESKM
 * style): it works when the client certificate's CN equals the configured KMIP username, and is refused — the
 * connection closed and the cause logged, not a bare Internal Server Error — when it does not.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import test from 'ava';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { pythonMissing, runPythonJson } from '../support/python.js';

const script = resolve(import.meta.dirname, 'barbican_check.py');

interface Result {
  generated: Record<string, unknown>;
  stored: Record<string, { sent: string; got: string | null }>;
  errors?: Record<string, string>;
}

let server: TestAppliance | undefined;
const missing = await pythonMissing(['barbican.plugin.kmip_secret_store', 'oslo_config']);

test.before(async () => {
  if (missing === undefined)
    server = await startTestAppliance({ identity: { clientCertMode: 'session-and-username' } });
});
test.after.always(async () => {
  await server?.dispose();
});

/** Barbican's plugin as KMIP user 'barbican' (password 'secret'), with a client certificate issued for a CN. */
async function barbicanWithCertificateFor(appliance: TestAppliance, commonName: string): Promise<Result> {
  const files = await appliance.issueClient(commonName);
  return runPythonJson<Result>(script, [
    appliance.host,
    String(appliance.port),
    files.cert,
    files.key,
    files.ca,
    'true',
    'barbican',
    'secret',
  ]);
}

test.serial('matching certificate CN and KMIP username: Barbican works', async (t) => {
  if (missing !== undefined || !server) {
    t.log(`skipped: ${missing ?? 'no server'}`);
    t.pass();
    return;
  }
  const r = await barbicanWithCertificateFor(server, 'barbican');
  // As in barbican.test.ts: get after delete fails, and so does get of a 168-bit 3DES key (PyKMIP's own check).
  const expected = new Set(['get after delete', 'get desede 168']);
  const errors = Object.keys(r.errors ?? {}).filter((label) => !expected.has(label));
  t.deepEqual(errors, []);
  t.is(r.stored['passphrase']?.got, r.stored['passphrase']?.sent);
});

test.serial(
  'a CN that is not the KMIP username: refused by name, connection closed, cause logged',
  async (t) => {
    if (missing !== undefined || !server) {
      t.log(`skipped: ${missing ?? 'no server'}`);
      t.pass();
      return;
    }
    const r = await barbicanWithCertificateFor(server, 'barbican-node1');
    const first = r.errors?.['generate aes 128'] ?? '';
    t.regex(first, /AUTHENTICATION_NOT_SUCCESSFUL/);
    t.regex(first, /certificate name 'barbican-node1' does not match the Credential username 'barbican'/);
    const log = readFileSync(join(server.dataDir, 'logs', 'kmipd.log'), 'utf8');
    t.regex(log, /"cause":"name-mismatch"/);
    t.deepEqual(r.stored, {}, 'nothing was stored');
  },
);
