/**
 * PyKMIP's own client (Debian python3-pykmip) against a real appliance (SoftHSM2 token, LevelDB, mutual TLS) at
 * KMIP 1.0, 1.2, 1.4 and 2.0: Create, Create Key Pair, Register of every object type, Get byte-exact, Get
 * Attributes, Locate, Activate, Revoke, Destroy, and the errors a client must see.
 */
import { createPublicKey } from 'node:crypto';
import { resolve } from 'node:path';
import test from 'ava';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { pythonMissing, runPythonJson } from '../support/python.js';

const script = resolve(import.meta.dirname, 'pykmip_check.py');

interface Failure {
  status: string;
  reason: string;
  message: string;
}
interface Result {
  registered: Record<string, { uid: string; sent: string; got: string; type: string }>;
  create: { uid: string; length: number };
  attributes: string[];
  locate_by_name: string[];
  locate_aes: number;
  key_pair: { public: string; private_len: number };
  destroy_active: Failure | null;
  state_after_revoke: string;
  get_after_destroy: Failure | null;
  get_unknown: Failure | null;
}

let server: TestAppliance | undefined;
const missing = await pythonMissing(['kmip', 'cryptography']);

test.before(async () => {
  if (missing === undefined) server = await startTestAppliance();
});
test.after.always(async () => {
  await server?.dispose();
});

for (const version of ['1.0', '1.2', '1.4', '2.0']) {
  test.serial(`PyKMIP client at KMIP ${version}`, async (t) => {
    if (missing !== undefined || !server) {
      t.log(`skipped: ${missing ?? 'no server'}`);
      t.pass();
      return;
    }
    const r = await runPythonJson<Result>(script, [
      server.host,
      String(server.port),
      server.cert,
      server.key,
      server.ca,
      version,
    ]);
    // Register + Get of every object type gives back exactly the bytes registered.
    t.deepEqual(Object.keys(r.registered).sort(), [
      'certificate',
      'opaque',
      'password',
      'private_pkcs1',
      'private_pkcs8',
      'public_pkcs1',
      'public_x509',
      'seed',
      'symmetric',
    ]);
    for (const [label, entry] of Object.entries(r.registered)) {
      t.true(entry.sent.length > 0, label);
      t.is(entry.got, entry.sent, `${label} is not byte-exact`);
    }
    t.is(r.create.length, 32, 'AES-256 key of 32 bytes');
    for (const name of [
      'Unique Identifier',
      'Object Type',
      'State',
      'Cryptographic Algorithm',
      'Cryptographic Length',
      'Name',
      ...(version === '1.0' ? [] : ['Digest']),
    ]) {
      t.true(r.attributes.includes(name), `Get Attributes lacks ${name}: ${r.attributes.join(', ')}`);
    }
    t.deepEqual(r.locate_by_name, [r.create.uid], 'Locate by Name finds exactly the named key');
    t.true(r.locate_aes >= 2, 'Locate by algorithm finds the AES keys');
    // The generated public key parses as PKCS#1 RSA-2048.
    const publicKey = createPublicKey({
      key: Buffer.from(r.key_pair.public, 'hex'),
      format: 'der',
      type: 'pkcs1',
    });
    t.is(publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    t.true(r.key_pair.private_len > 1000);
    // Destroying an Active key: Permission Denied up to 2.0 (the 1.x error tables and the 2.0 profile vectors,
    // AKLC-M-2-20), Wrong Key Lifecycle State from 2.1 (AKLC-M-2-21).
    t.regex(
      r.destroy_active?.reason ?? '',
      version === '2.1' ? /WRONG_KEY_LIFECYCLE_STATE/ : /PERMISSION_DENIED/,
    );
    t.regex(r.state_after_revoke, /DEACTIVATED/);
    // A destroyed object's Get is Item Not Found in every version; an unknown Unique Identifier is Object Not
    // Found from 2.0 on (the 2.x error tables, BL-M-4-21), Item Not Found in 1.x.
    // 2.x has a reason of its own for a destroyed object's key material (Object Destroyed, BL-M-8-21).
    t.regex(
      r.get_after_destroy?.reason ?? '',
      version.startsWith('2.') ? /OBJECT_DESTROYED/ : /ITEM_NOT_FOUND/,
    );
    t.regex(r.get_unknown?.reason ?? '', version.startsWith('2.') ? /OBJECT_NOT_FOUND/ : /ITEM_NOT_FOUND/);
  });
}
