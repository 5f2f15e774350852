/**
 * EME-OAEP encoding and decoding (RFC 8017 §7.1.1 step 2, §7.1.2 step 3), for OAEP parameters the token's own
 * CKM_RSA_PKCS_OAEP does not take: SoftHSM2 2.6.1 accepts only SHA-1 with MGF1-SHA-1 and no label
 * (CKR_ARGUMENTS_BAD otherwise), while KMIP clients ask for SHA-256 to SHA-512 and labels. The RSA operation itself
 * stays in the token (CKM_RSA_X_509, the raw RSA primitive); only the padding, which involves no key, is done here.
 *
 * Decoding checks every condition before answering and gives one error for all of them (RFC 8017 §7.1.2 note:
 * an attacker must not tell the failures apart, Manger's attack).
 */
import { createHash, randomFillSync } from 'node:crypto';
import { HsmError, type HashName } from './hsm.js';

const nodeHash: Readonly<Record<HashName, string>> = {
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
};

function hash(name: HashName, ...parts: Uint8Array[]): Buffer {
  const h = createHash(nodeHash[name]);
  for (const part of parts) h.update(part);
  return h.digest();
}

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(name: HashName, seed: Uint8Array, length: number): Buffer {
  const out = Buffer.alloc(length);
  const counter = Buffer.alloc(4);
  for (let offset = 0, i = 0; offset < length; i += 1) {
    counter.writeUInt32BE(i);
    const block = hash(name, seed, counter);
    block.copy(out, offset, 0, Math.min(block.length, length - offset));
    offset += block.length;
  }
  return out;
}

export interface OaepParameters {
  readonly hash: HashName;
  readonly mgfHash: HashName;
  readonly label: Uint8Array;
}

/** EM for a k-byte modulus (RFC 8017 §7.1.1 step 2). */
export function oaepEncode(message: Uint8Array, k: number, p: OaepParameters): Buffer {
  const hLen = hash(p.hash).length;
  if (message.length > k - 2 * hLen - 2) {
    throw new HsmError(
      'bad-input',
      `OAEP takes at most ${String(k - 2 * hLen - 2)} bytes with this key and hash`,
    );
  }
  const db = Buffer.alloc(k - hLen - 1);
  hash(p.hash, p.label).copy(db, 0);
  db[db.length - message.length - 1] = 0x01;
  Buffer.from(message).copy(db, db.length - message.length);
  const seed = randomFillSync(Buffer.alloc(hLen));
  const maskedDb = xor(db, mgf1(p.mgfHash, seed, db.length));
  const maskedSeed = xor(seed, mgf1(p.mgfHash, maskedDb, hLen));
  db.fill(0);
  return Buffer.concat([Buffer.of(0), maskedSeed, maskedDb]);
}

/** The message inside EM (RFC 8017 §7.1.2 step 3); one 'bad-input' error for every kind of failure. */
export function oaepDecode(em: Uint8Array, k: number, p: OaepParameters): Buffer {
  const hLen = hash(p.hash).length;
  if (em.length !== k || k < 2 * hLen + 2) throw decryptionError();
  const maskedSeed = em.subarray(1, 1 + hLen);
  const maskedDb = em.subarray(1 + hLen);
  const seed = xor(maskedSeed, mgf1(p.mgfHash, maskedDb, hLen));
  const db = xor(maskedDb, mgf1(p.mgfHash, seed, maskedDb.length));
  const lHash = hash(p.hash, p.label);
  let bad = em[0] ?? 1;
  for (let i = 0; i < hLen; i += 1) bad |= (db[i] ?? 0) ^ (lHash[i] ?? 0);
  // Find the 0x01 separator after the zero padding without branching on the secret position.
  let index = 0;
  let looking = 1;
  for (let i = hLen; i < db.length; i += 1) {
    const byte = db[i] ?? 0;
    const isOne = byte === 1 ? 1 : 0;
    const isZero = byte === 0 ? 1 : 0;
    index |= looking & isOne ? i : 0;
    bad |= looking & (isOne | isZero ? 0 : 1);
    looking &= isOne ? 0 : 1;
  }
  bad |= looking;
  if (bad !== 0) {
    db.fill(0);
    throw decryptionError();
  }
  const message = Buffer.from(db.subarray(index + 1));
  db.fill(0);
  return message;
}

function decryptionError(): HsmError {
  return new HsmError('bad-input', 'decryption error');
}

function xor(a: Uint8Array, b: Uint8Array): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i += 1) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0);
  return out;
}
