/**
 * Derive Key through PyKMIP's own client (Debian python3-pykmip, ProxyKmipClient.derive_key) over mutual TLS against
 * a real appliance (SoftHSM2 token, LevelDB, lab PKI), at KMIP 1.2, 1.4 and 2.0: HASH (SHA-256 of an AES-128 key),
 * HMAC (HMAC-SHA-256 of Derivation Data keyed with an AES-256 key), PBKDF2 from a Secret Data password (default PRF
 * HMAC-SHA-1, and SHA-256 named), ENCRYPT (AES-128-CBC without padding, IV given), and the refusal of a base key
 * whose Cryptographic Usage Mask lacks Derive Key.
 *
 * The test makes every key, password, salt, IV and Derivation Data itself and registers them through PyKMIP
 * (pykmip_derive.py); each derived key is fetched back with PyKMIP's Get and compared byte for byte with the same
 * derivation done here by node:crypto.
 *
 * Not checked here: the Derivation Base Object and Derived Key links, because PyKMIP 0.10's Get Attributes cannot
 * decode a Link attribute (its attribute value factory raises NotImplementedError); test/server/derive-key.test.ts
 * checks them with the project's own client.
 */
import { createCipheriv, createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pythonMissing } from '../support/python.js';
import { pykmipRuns } from '../support/pykmip-runs.js';

const script = resolve(import.meta.dirname, 'pykmip_derive.py');
const versions = ['1.2', '1.4', '2.0'] as const;
type Version = (typeof versions)[number];

// ---- what the Python side prints ------------------------------------------------------------------------------

interface Failure {
  status: string;
  reason: string;
  message: string | null;
}
/** One Derive Key and the Get of its result, or the KMIP failure, or an exception inside PyKMIP. */
interface Outcome {
  uid?: string;
  base?: string;
  object_type?: string;
  algorithm?: string;
  length?: number;
  value?: string;
  failure?: Failure;
  exception?: string;
}
interface Pair {
  aes128: Outcome;
  aes256: Outcome;
}
interface Result {
  version: string;
  hash: Outcome;
  hmac: Outcome;
  pbkdf2_default: Pair;
  pbkdf2_sha256: Pair;
  encrypt: Outcome;
  refusal_without_derive_usage: Outcome;
}

// ---- the test's own material and computations ------------------------------------------------------------------

const iterations = 1000;
const material = {
  hashKey: randomBytes(16),
  hmacKey: randomBytes(32),
  hmacData: randomBytes(48),
  cbcKey: randomBytes(16),
  cbcIv: randomBytes(16),
  cbcData: randomBytes(16),
  // A printable password, as SecretDataType Password suggests; random, so that no constant can match.
  password: Buffer.from(randomBytes(18).toString('base64')),
  salt: randomBytes(16),
};
const input = {
  hash_key: material.hashKey.toString('hex'),
  hmac_key: material.hmacKey.toString('hex'),
  hmac_data: material.hmacData.toString('hex'),
  cbc_key: material.cbcKey.toString('hex'),
  cbc_iv: material.cbcIv.toString('hex'),
  cbc_data: material.cbcData.toString('hex'),
  password: material.password.toString('hex'),
  salt: material.salt.toString('hex'),
  iterations,
};

const hex = (b: Buffer): string => b.toString('hex');

function aes128Cbc(key: Buffer, iv: Buffer, data: Buffer): Buffer {
  const cipher = createCipheriv('aes-128-cbc', key, iv);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

const expected = {
  hash: hex(createHash('sha256').update(material.hashKey).digest().subarray(0, 16)),
  hmac: createHmac('sha256', material.hmacKey).update(material.hmacData).digest('hex'),
  pbkdf2Sha1: {
    aes128: hex(pbkdf2Sync(material.password, material.salt, iterations, 16, 'sha1')),
    aes256: hex(pbkdf2Sync(material.password, material.salt, iterations, 32, 'sha1')),
  },
  pbkdf2Sha256: {
    aes128: hex(pbkdf2Sync(material.password, material.salt, iterations, 16, 'sha256')),
    aes256: hex(pbkdf2Sync(material.password, material.salt, iterations, 32, 'sha256')),
  },
  encrypt: hex(aes128Cbc(material.cbcKey, material.cbcIv, material.cbcData)),
};

// ---- one PyKMIP run per version, shared by the tests of that version -------------------------------------------

const missing = await pythonMissing(['kmip', 'cryptography']);
const results = pykmipRuns<Result>(test, { script, input, versions, missing });

/** The answer of a call that must succeed, with what went wrong in the message when it did not. */
function succeeded(t: ExecutionContext, outcome: Outcome | undefined, what: string): Outcome {
  t.truthy(outcome, `${what}: no outcome`);
  t.is(outcome?.failure, undefined, `${what} failed: ${JSON.stringify(outcome?.failure)}`);
  t.is(outcome?.exception, undefined, `${what}: PyKMIP raised ${outcome?.exception ?? ''}`);
  return outcome ?? {};
}

/** A derived AES key of `bits` bits, a new object apart from its base, whose value Get serves as `value`. */
function derivedKey(
  t: ExecutionContext,
  outcome: Outcome | undefined,
  what: string,
  bits: number,
  value: string,
): void {
  const key = succeeded(t, outcome, what);
  t.truthy(key.uid, `${what}: a Unique Identifier`);
  t.not(key.uid, key.base, `${what}: a new object, not the base`);
  t.is(key.object_type, 'ObjectType.SYMMETRIC_KEY', what);
  t.is(key.algorithm, 'CryptographicAlgorithm.AES', what);
  t.is(key.length, bits, `${what}: Cryptographic Length`);
  t.is(key.value, value, `${what}: the derived bytes, as node:crypto derives them`);
}

/** Registers a test per version that runs `body` on that version's PyKMIP results. */
function perVersion(title: string, body: (t: ExecutionContext, r: Result, version: Version) => void): void {
  for (const version of versions) {
    test(`PyKMIP at KMIP ${version}: ${title}`, async (t) => {
      const run = results.get(version);
      if (missing !== undefined || run === undefined) {
        t.log(`skipped: ${missing ?? 'no server'}`);
        t.pass();
        return;
      }
      body(t, await run, version);
    });
  }
}

// ---- the checks ------------------------------------------------------------------------------------------------

test("the test's own derivations are told apart: SHA-1 and SHA-256 PBKDF2, a hash of the key, not the key", (t) => {
  t.not(expected.pbkdf2Sha1.aes128, expected.pbkdf2Sha256.aes128);
  t.not(expected.pbkdf2Sha1.aes256, expected.pbkdf2Sha256.aes256);
  t.not(expected.hash, hex(material.hashKey));
  t.not(expected.encrypt, hex(material.cbcData));
  t.not(
    expected.encrypt,
    hex(aes128Cbc(material.cbcKey, Buffer.alloc(16), material.cbcData)),
    'the IV matters',
  );
});

perVersion('HASH: SHA-256 of an AES-128 key, its first 16 bytes as an AES-128 key', (t, r) => {
  derivedKey(t, r.hash, 'Derive Key HASH SHA-256', 128, expected.hash);
});

perVersion(
  'HMAC: HMAC-SHA-256 of the Derivation Data keyed with an AES-256 key, as an AES-256 key',
  (t, r) => {
    derivedKey(t, r.hmac, 'Derive Key HMAC SHA-256', 256, expected.hmac);
  },
);

perVersion('PBKDF2 from a Secret Data password, default PRF HMAC-SHA-1: AES-128 and AES-256', (t, r) => {
  derivedKey(t, r.pbkdf2_default.aes128, 'PBKDF2 HMAC-SHA-1, 128 bits', 128, expected.pbkdf2Sha1.aes128);
  derivedKey(t, r.pbkdf2_default.aes256, 'PBKDF2 HMAC-SHA-1, 256 bits', 256, expected.pbkdf2Sha1.aes256);
});

perVersion(
  'PBKDF2 from a Secret Data password with Hashing Algorithm SHA-256: AES-128 and AES-256',
  (t, r) => {
    derivedKey(t, r.pbkdf2_sha256.aes128, 'PBKDF2 HMAC-SHA-256, 128 bits', 128, expected.pbkdf2Sha256.aes128);
    derivedKey(t, r.pbkdf2_sha256.aes256, 'PBKDF2 HMAC-SHA-256, 256 bits', 256, expected.pbkdf2Sha256.aes256);
  },
);

perVersion('ENCRYPT: AES-128-CBC without padding of 16 bytes of Derivation Data, IV given', (t, r) => {
  derivedKey(t, r.encrypt, 'Derive Key ENCRYPT AES-CBC', 128, expected.encrypt);
});

perVersion(
  'a base key whose usage mask lacks Derive Key is refused, in the reason the version defines',
  (t, r, v) => {
    const outcome = r.refusal_without_derive_usage;
    t.is(outcome.exception, undefined, `PyKMIP raised ${outcome.exception ?? ''}`);
    t.is(outcome.uid, undefined, 'nothing derived');
    t.is(outcome.failure?.status, 'ResultStatus.OPERATION_FAILED', JSON.stringify(outcome));
    // KMIP 1.x has no Incompatible Cryptographic Usage Mask (a Result Reason added in 2.0): Permission Denied there,
    // as for Encrypt in pykmip-crypto.test.ts.
    t.is(
      outcome.failure?.reason,
      v === '2.0' ? 'ResultReason.INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK' : 'ResultReason.PERMISSION_DENIED',
      JSON.stringify(outcome),
    );
    t.truthy(outcome.failure?.message, 'a Result Message saying why');
    t.regex(outcome.failure?.message ?? '', /Usage Mask/);
  },
);
