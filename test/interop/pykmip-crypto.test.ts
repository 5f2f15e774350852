/**
 * The cryptographic operations through PyKMIP's own client (Debian python3-pykmip) over mutual TLS against a real
 * appliance (SoftHSM2 token, LevelDB, lab PKI), at KMIP 1.2, 1.4 and 2.0: Encrypt and Decrypt (AES ECB, CBC with
 * PKCS5 padding, GCM with Additional Authenticated Data; RSA OAEP with SHA-256), Sign (RSA PKCS#1 v1.5 and PSS with
 * SHA-256), Signature Verify (valid and tampered) and MAC (HMAC-SHA256), and the refusals a client must see.
 *
 * The test makes every key and message itself and registers them through PyKMIP (pykmip_crypto.py), so that each
 * answer is compared byte for byte with the same computation done here by node:crypto; randomised outputs (OAEP,
 * PSS, a server-chosen IV) are checked by decrypting or verifying them here, and what node:crypto made is handed to
 * the server to decrypt or verify.
 */
import {
  constants,
  createCipheriv,
  createHash,
  createHmac,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { resolve } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { pythonMissing } from '../support/python.js';
import { pykmipRuns } from '../support/pykmip-runs.js';

const script = resolve(import.meta.dirname, 'pykmip_crypto.py');
const versions = ['1.2', '1.4', '2.0'] as const;
type Version = (typeof versions)[number];

// ---- what the Python side prints ------------------------------------------------------------------------------

interface Failure {
  status: string;
  reason: string;
  message: string | null;
}
/** One call: its answer's fields (hex), or the KMIP failure, or an exception inside PyKMIP. */
interface Outcome {
  data?: string | null;
  iv?: string | null;
  tag?: string | null;
  validity?: string;
  failure?: Failure;
  exception?: string;
}
interface Result {
  version: string;
  refusals: Record<'encrypt_pre_active' | 'encrypt_without_usage' | 'sign_with_public_key', Outcome>;
  ecb: Outcome;
  ecb_decrypt: Outcome;
  cbc_given_iv: Outcome;
  cbc_server_iv: Outcome;
  cbc_decrypt: Outcome;
  gcm_given_iv?: Outcome;
  gcm_server_iv?: Outcome;
  gcm_decrypt?: Outcome;
  gcm_decrypt_bad_tag?: Outcome;
  gcm_pre_1_4?: Outcome;
  oaep: Outcome;
  oaep_decrypt: Outcome;
  sign_pkcs1: Outcome;
  sign_pkcs1_by_parts: Outcome;
  sign_pss: Outcome;
  verify: Record<
    'pkcs1' | 'pkcs1_tampered_signature' | 'pkcs1_tampered_message' | 'pss' | 'pss_tampered_signature',
    Outcome
  >;
  mac: Outcome & { uid?: string; expected_uid?: string };
}

// ---- the test's own material and computations ------------------------------------------------------------------

type HashName = 'sha1' | 'sha256';
const hashBytes: Record<HashName, number> = { sha1: 20, sha256: 32 };

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: HashName, seed: Buffer, length: number): Buffer {
  const chunks: Buffer[] = [];
  for (let counter = 0; chunks.length * hashBytes[hash] < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    chunks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(chunks).subarray(0, length);
}

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((byte, i) => byte ^ (b[i] ?? 0)));

/**
 * RSAES-OAEP with an empty label (RFC 8017 §7.1), with a mask generator hash of its own: node:crypto ties MGF1's
 * hash to the OAEP hash, and KMIP 1.4 §3.6 Table 65 defaults the Mask Generator Hashing Algorithm to SHA-1 whatever
 * the Hashing Algorithm, so the OAEP the server is asked for (SHA-256, MGF1 unnamed) is SHA-256 with MGF1-SHA-1.
 * Done around raw RSA (RSA_NO_PADDING) from node:crypto.
 */
function oaepEncrypt(key: KeyObject, message: Buffer, hash: HashName, mgfHash: HashName): Buffer {
  const k = 256;
  const hLen = hashBytes[hash];
  const lHash = createHash(hash).digest();
  const db = Buffer.concat([
    lHash,
    Buffer.alloc(k - message.length - 2 * hLen - 2),
    Buffer.from([1]),
    message,
  ]);
  const seed = randomBytes(hLen);
  const maskedDb = xor(db, mgf1(mgfHash, seed, db.length));
  const maskedSeed = xor(seed, mgf1(mgfHash, maskedDb, hLen));
  const em = Buffer.concat([Buffer.from([0]), maskedSeed, maskedDb]);
  return publicEncrypt({ key, padding: constants.RSA_NO_PADDING }, em);
}

/** The message inside an OAEP ciphertext, or undefined when it does not decode under these hashes. */
function oaepDecrypt(
  key: KeyObject,
  ciphertext: Buffer,
  hash: HashName,
  mgfHash: HashName,
): Buffer | undefined {
  const em = privateDecrypt({ key, padding: constants.RSA_NO_PADDING }, ciphertext);
  const hLen = hashBytes[hash];
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(mgfHash, maskedDb, hLen));
  const db = xor(maskedDb, mgf1(mgfHash, seed, maskedDb.length));
  if (em[0] !== 0 || !db.subarray(0, hLen).equals(createHash(hash).digest())) return undefined;
  const one = db.indexOf(1, hLen);
  if (one < 0 || db.subarray(hLen, one).some((byte) => byte !== 0)) return undefined;
  return db.subarray(one + 1);
}

function aes(mode: 'ecb' | 'cbc', key: Buffer, iv: Buffer | null, data: Buffer, pad: boolean): Buffer {
  const cipher = createCipheriv(`aes-256-${mode}`, key, iv);
  cipher.setAutoPadding(pad);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

function gcm(key: Buffer, iv: Buffer, aad: Buffer, data: Buffer): { data: Buffer; tag: Buffer } {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const out = Buffer.concat([cipher.update(data), cipher.final()]);
  return { data: out, tag: cipher.getAuthTag() };
}

const pss = (key: KeyObject): { key: KeyObject; padding: number; saltLength: number } => ({
  key,
  padding: constants.RSA_PKCS1_PSS_PADDING,
  // RFC 8017 §9.1: a salt as long as the hash; what the server uses when the request names none.
  saltLength: 32,
});

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const material = {
  aesKey: randomBytes(32),
  hmacKey: randomBytes(32),
  // 37 bytes: not a whole number of AES blocks, so that PKCS5 padding shows.
  message: randomBytes(37),
  blocks: randomBytes(32),
  cbcIv: randomBytes(16),
  gcmIv: randomBytes(12),
  gcmAad: randomBytes(20),
};
const nodeGcm = gcm(material.aesKey, material.gcmIv, material.gcmAad, material.message);
const nodePkcs1 = sign('sha256', material.message, privateKey);
const input = {
  aes_key: material.aesKey.toString('hex'),
  hmac_key: material.hmacKey.toString('hex'),
  rsa_private_pkcs8: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('hex'),
  rsa_public_spki: publicKey.export({ format: 'der', type: 'spki' }).toString('hex'),
  message: material.message.toString('hex'),
  blocks: material.blocks.toString('hex'),
  cbc_iv: material.cbcIv.toString('hex'),
  gcm_iv: material.gcmIv.toString('hex'),
  gcm_aad: material.gcmAad.toString('hex'),
  node: {
    ecb: aes('ecb', material.aesKey, null, material.blocks, false).toString('hex'),
    cbc: aes('cbc', material.aesKey, material.cbcIv, material.message, true).toString('hex'),
    gcm: { data: nodeGcm.data.toString('hex'), tag: nodeGcm.tag.toString('hex') },
    oaep: oaepEncrypt(publicKey, material.message, 'sha256', 'sha1').toString('hex'),
    pkcs1: nodePkcs1.toString('hex'),
    pss: sign('sha256', material.message, pss(privateKey)).toString('hex'),
  },
};

// ---- one PyKMIP run per version, shared by the tests of that version -------------------------------------------

const missing = await pythonMissing(['kmip', 'cryptography']);
const results = pykmipRuns<Result>(test, { script, input, versions, missing });

const hex = (b: Buffer): string => b.toString('hex');
const bytesOf = (value: string | null | undefined): Buffer => Buffer.from(value ?? '', 'hex');

/** The answer of a call that must succeed, with what went wrong in the message when it did not. */
function succeeded<O extends Outcome>(t: ExecutionContext, outcome: O | undefined, what: string): Partial<O> {
  t.truthy(outcome, `${what}: no outcome`);
  t.is(outcome?.failure, undefined, `${what} failed: ${JSON.stringify(outcome?.failure)}`);
  t.is(outcome?.exception, undefined, `${what}: PyKMIP raised ${outcome?.exception ?? ''}`);
  return outcome ?? {};
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

test("the test's own OAEP agrees with node:crypto's where node:crypto can do it (MGF1 hash = OAEP hash)", (t) => {
  const message = randomBytes(40);
  const native = publicEncrypt({ key: publicKey, oaepHash: 'sha256' }, message);
  t.is(hex(oaepDecrypt(privateKey, native, 'sha256', 'sha256') ?? Buffer.alloc(0)), hex(message));
  t.is(oaepDecrypt(privateKey, native, 'sha256', 'sha1'), undefined, 'a wrong MGF1 hash must not decode');
  const ours = oaepEncrypt(publicKey, message, 'sha256', 'sha256');
  t.is(hex(privateDecrypt({ key: privateKey, oaepHash: 'sha256' }, ours)), hex(message));
});

perVersion('AES-256 ECB without padding: Encrypt and Decrypt byte-equal to node:crypto', (t, r) => {
  const ecb = succeeded(t, r.ecb, 'Encrypt ECB');
  t.is(ecb.data, input.node.ecb);
  t.is(ecb.iv, null, 'ECB takes no IV, so none comes back');
  t.is(succeeded(t, r.ecb_decrypt, 'Decrypt ECB').data, input.blocks);
});

perVersion('AES-256 CBC PKCS5: Encrypt with an IV, with a server-chosen IV, and Decrypt', (t, r) => {
  const given = succeeded(t, r.cbc_given_iv, 'Encrypt CBC with an IV');
  t.is(given.data, input.node.cbc, 'same ciphertext as node:crypto under the same key and IV');
  t.is(given.iv, null, 'no IV in the answer when the request gave one');

  const chosen = succeeded(t, r.cbc_server_iv, 'Encrypt CBC without an IV');
  const iv = bytesOf(chosen.iv);
  t.is(iv.length, 16, 'the IV the server chose comes back, one AES block long');
  t.not(hex(iv), input.cbc_iv);
  t.is(chosen.data, hex(aes('cbc', material.aesKey, iv, material.message, true)), 'ciphertext under that IV');

  t.is(succeeded(t, r.cbc_decrypt, 'Decrypt CBC').data, input.message);
});

perVersion(
  'AES-256 GCM with AAD (KMIP 1.4 on): Encrypt, Encrypt with a server IV, Decrypt, bad tag',
  (t, r, v) => {
    if (v === '1.2') {
      t.is(r.gcm_given_iv, undefined, 'no GCM through the proxy before KMIP 1.4');
      return;
    }
    const given = succeeded(t, r.gcm_given_iv, 'Encrypt GCM with an IV');
    t.is(given.data, input.node.gcm.data, 'same ciphertext as node:crypto');
    t.is(given.tag, input.node.gcm.tag, 'same tag as node:crypto (AAD included)');
    t.falsy(given.iv, 'no IV in the answer when the request gave one');

    const chosen = succeeded(t, r.gcm_server_iv, 'Encrypt GCM without an IV');
    const iv = bytesOf(chosen.iv);
    t.is(iv.length, 12, 'the server-chosen IV comes back, 96 bits as IV Length asks');
    const expected = gcm(material.aesKey, iv, material.gcmAad, material.message);
    t.is(chosen.data, hex(expected.data));
    t.is(chosen.tag, hex(expected.tag));

    t.is(succeeded(t, r.gcm_decrypt, 'Decrypt GCM').data, input.message);
    t.regex(
      r.gcm_decrypt_bad_tag?.failure?.reason ?? '',
      /CRYPTOGRAPHIC_FAILURE/,
      'a tampered tag is refused',
    );
    t.falsy(r.gcm_decrypt_bad_tag?.data, 'and no data comes back');
  },
);

/**
 * KMIP 1.2 cannot carry GCM's Authenticated Encryption Tag (KMIP 1.4 §2.1.23 added it): a GCM Encrypt at 1.2 must
 * be refused with an answer 1.2 defines. Until 3e3fb33 the server answered with the tag (0x4200FF) inside a 1.2
 * message, and PyKMIP's 1.2 decoder failed on it (StreamNotEmptyError).
 */
perVersion('a GCM Encrypt before KMIP 1.4 is refused in words that version defines', (t, r, v) => {
  if (v !== '1.2') {
    t.is(r.gcm_pre_1_4, undefined, 'asked only below 1.4');
    return;
  }
  const outcome = r.gcm_pre_1_4;
  t.is(outcome?.exception, undefined, `PyKMIP 1.2 cannot read the answer: ${outcome?.exception ?? ''}`);
  t.truthy(outcome?.failure, `a refusal, not ciphertext without its tag: ${JSON.stringify(outcome)}`);
  t.regex(outcome?.failure?.message ?? '', /1\.4/);
});

perVersion('RSA OAEP SHA-256 (MGF1-SHA-1 by default, KMIP 1.4 Table 65): Encrypt and Decrypt', (t, r) => {
  const encrypted = succeeded(t, r.oaep, 'Encrypt OAEP');
  const ciphertext = bytesOf(encrypted.data);
  t.is(ciphertext.length, 256);
  t.not(hex(ciphertext), input.node.oaep, 'OAEP is randomised');
  t.is(hex(oaepDecrypt(privateKey, ciphertext, 'sha256', 'sha1') ?? Buffer.alloc(0)), input.message);
  t.is(
    oaepDecrypt(privateKey, ciphertext, 'sha256', 'sha256'),
    undefined,
    'MGF1 is not SHA-256 unless asked',
  );
  t.is(succeeded(t, r.oaep_decrypt, 'Decrypt OAEP').data, input.message, 'what node:crypto encrypted');
});

perVersion('RSA PKCS#1 v1.5 SHA-256 Sign byte-equal to node:crypto, named either way', (t, r) => {
  t.is(succeeded(t, r.sign_pkcs1, 'Sign SHA256WithRSAEncryption').data, input.node.pkcs1);
  t.is(succeeded(t, r.sign_pkcs1_by_parts, 'Sign RSA + PKCS1 v1.5 + SHA-256').data, input.node.pkcs1);
});

perVersion('RSA PSS SHA-256 Sign verifies with node:crypto', (t, r) => {
  const signature = bytesOf(succeeded(t, r.sign_pss, 'Sign PSS').data);
  t.is(signature.length, 256);
  t.true(
    verify('sha256', material.message, pss(publicKey), signature),
    'a PSS signature node:crypto accepts',
  );
  t.false(verify('sha256', material.message, publicKey, signature), 'and not a PKCS#1 v1.5 one');
});

perVersion('Signature Verify of node:crypto signatures: valid, and tampered signature or message', (t, r) => {
  const validity = (o: Outcome, what: string): string => succeeded(t, o, what).validity ?? '';
  t.regex(validity(r.verify.pkcs1, 'Verify PKCS#1'), /\.VALID$/);
  t.regex(validity(r.verify.pkcs1_tampered_signature, 'Verify tampered PKCS#1'), /\.INVALID$/);
  t.regex(validity(r.verify.pkcs1_tampered_message, 'Verify PKCS#1, tampered message'), /\.INVALID$/);
  t.regex(validity(r.verify.pss, 'Verify PSS'), /\.VALID$/);
  t.regex(validity(r.verify.pss_tampered_signature, 'Verify tampered PSS'), /\.INVALID$/);
});

perVersion('HMAC-SHA256 MAC byte-equal to node:crypto', (t, r) => {
  const mac = succeeded(t, r.mac, 'MAC');
  t.is(mac.data, createHmac('sha256', material.hmacKey).update(material.message).digest('hex'));
  t.truthy(mac.uid);
  t.is(mac.uid, mac.expected_uid, 'the answer names the key used');
});

perVersion('refusals: a Pre-Active key, a usage mask without Encrypt, Sign with a public key', (t, r, v) => {
  const pre = r.refusals.encrypt_pre_active.failure;
  // KMIP 1.x and 2.0 answer Permission Denied (the profile vectors CS-BC-M-14 expect it), 2.1 Wrong Key Lifecycle
  // State.
  t.regex(pre?.reason ?? '', /PERMISSION_DENIED/, JSON.stringify(r.refusals.encrypt_pre_active));
  t.regex(pre?.message ?? '', /Pre-Active/);
  const mask = r.refusals.encrypt_without_usage.failure;
  t.regex(
    mask?.reason ?? '',
    v === '2.0' ? /INCOMPATIBLE_CRYPTOGRAPHIC_USAGE_MASK/ : /PERMISSION_DENIED/,
    JSON.stringify(r.refusals.encrypt_without_usage),
  );
  t.regex(mask?.message ?? '', /Usage Mask/);
  t.truthy(r.refusals.sign_with_public_key.failure, JSON.stringify(r.refusals.sign_with_public_key));
  t.is(r.refusals.sign_with_public_key.exception, undefined);
});
