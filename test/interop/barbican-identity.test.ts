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

test.serial('matching certificate CN and KMIP username: Barbican works', async (t) => {
  if (missing !== undefined || !server) {
    t.log(`skipped: ${missing ?? 'no server'}`);
    t.pass();
    return;
  }
  const files = await server.issueClient('barbican');
  const r = await runPythonJson<Result>(script, [
    server.host,
    String(server.port),
    files.cert,
    files.key,
    files.ca,
    'true',
    'barbican',
    'secret',
  ]);
  const errors = Object.keys(r.errors ?? {}).filter((label) => label !== 'get after delete');
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
    const files = await server.issueClient('barbican-node1');
    const r = await runPythonJson<Result>(script, [
      server.host,
      String(server.port),
      files.cert,
      files.key,
      files.ca,
      'true',
      'barbican',
      'secret',
    ]);
    const first = r.errors?.['generate aes 128'] ?? '';
    t.regex(first, /AUTHENTICATION_NOT_SUCCESSFUL/);
    t.regex(first, /certificate name 'barbican-node1' does not match the Credential username 'barbican'/);
    const log = readFileSync(join(server.dataDir, 'logs', 'kmipd.log'), 'utf8');
    t.regex(log, /"cause":"name-mismatch"/);
    t.deepEqual(r.stored, {}, 'nothing was stored');
  },
);
