/**
 * OpenStack Barbican's own KMIPSecretStore plugin (Debian python3-barbican), configured as barbican.conf's
 * [kmip_plugin] section with a 0400 client key, against a real appliance: key generation for every algorithm
 * Barbican offers, store and get of every secret type byte-exact, with pkcs1_only off and on, and delete. A 3DES key
 * made as 168 bits is generated but not read back: the plugin's PyKMIP refuses the conformant Key Block.
 */
import { resolve } from 'node:path';
import test from 'ava';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { pythonMissing, runPythonJson } from '../support/python.js';

const script = resolve(import.meta.dirname, 'barbican_check.py');

interface Result {
  pkcs1_only: boolean;
  generated: Record<string, number | { private: string | null; public: string | null } | null>;
  stored: Record<string, { sent: string; got: string | null }>;
  get_after_delete?: boolean;
  errors?: Record<string, string>;
}

let server: TestAppliance | undefined;
let client: { cert: string; key: string; ca: string } | undefined;
const missing = await pythonMissing(['barbican.plugin.kmip_secret_store', 'oslo_config']);

test.before(async () => {
  if (missing !== undefined) return;
  server = await startTestAppliance();
  client = await server.issueClient('barbican');
});
test.after.always(async () => {
  await server?.dispose();
});

for (const pkcs1Only of [false, true]) {
  test.serial(`Barbican KMIPSecretStore, pkcs1_only ${String(pkcs1Only)}`, async (t) => {
    if (missing !== undefined || !server || !client) {
      t.log(`skipped: ${missing ?? 'no server'}`);
      t.pass();
      return;
    }
    const args = [
      server.host,
      String(server.port),
      client.cert,
      client.key,
      client.ca,
      String(pkcs1Only),
      'barbican',
      'secret',
    ];
    const r = await runPythonJson<Result>(script, args);
    // Two failures are expected: get after delete, and get of a 168-bit 3DES key, whose Key Block states 168 bits
    // over 24 bytes as the OASIS vectors do, which PyKMIP's client (under the plugin) refuses to read.
    const expectedFailures = new Set(['get after delete', 'get desede 168']);
    const errors = Object.entries(r.errors ?? {}).filter(([label]) => !expectedFailures.has(label));
    t.deepEqual(errors, [], 'every other plugin call succeeds');
    t.regex(r.errors?.['get desede 168'] ?? '', /key length \(168\) not equal to key value length \(192\)/);
    t.like(r.generated, {
      'aes-128': 16,
      'aes-256': 32,
      'des-56': 8,
      'desede-168': null,
      'desede-192': 24,
      'hmacsha1-160': 20,
      'hmacsha256-256': 32,
      'hmacsha384-384': 48,
      'hmacsha512-512': 64,
    });
    const rsa = r.generated['rsa'];
    t.true(
      typeof rsa === 'object' &&
        rsa?.private?.startsWith('-----BEGIN') === true &&
        rsa.public?.startsWith('-----BEGIN') === true,
    );
    if (!pkcs1Only) {
      const dsa = r.generated['dsa'];
      t.true(typeof dsa === 'object' && dsa?.private?.startsWith('-----BEGIN') === true, 'DSA key pair');
    }
    t.deepEqual(Object.keys(r.stored).sort(), ['opaque', 'passphrase', 'private', 'public', 'symmetric']);
    for (const [label, { sent, got }] of Object.entries(r.stored))
      t.is(got, sent, `${label} is not byte-exact`);
    t.true(r.get_after_delete, 'get_secret fails after delete_secret');
    t.regex(r.errors?.['get after delete'] ?? '', /ITEM_NOT_FOUND/);
  });
}
