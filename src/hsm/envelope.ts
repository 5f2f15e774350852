/**
 * The byte layout of the blobs the PKCS#11 Hsm returns (SealedKek.blob, SealedSecret.blob). Callers store them as
 * they are; only src/hsm reads them.
 *
 *   KEK blob, version 1:    'K' 'K' 0x01 0x00 | CKM_AES_KEY_WRAP_PAD(master, KEK)              (4 + 40 bytes)
 *   secret blob, version 1: 'K' 'S' 0x01 layout | u32 BE length | CKM_AES_KEY_WRAP_PAD(KEK, inner)   layouts 1-3
 *                           'K' 'S' 0x01 0x04   | u32 BE length | IV (12) | CKM_AES_GCM(KEK, bytes) | tag (16)
 *
 * Layout 4 "gcm" (seal() of client bytes, from this version on): AES-256-GCM by the KEK inside the token
 * (PKCS#11 v3.0 curr. mech. §2.12.3 CKM_AES_GCM; NIST SP 800-38D), read back with one C_Decrypt: no session object
 * is created, read or destroyed, unlike the key-wrap layouts. The additional authenticated data is the 8-byte
 * header, the SealedSecret format code and the KEK id (gcmAad()), so a blob whose header, format or KEK label was
 * changed fails the tag check exactly like an altered ciphertext. The header length is the plaintext length; it is
 * covered by the tag and checked again against what C_Decrypt gave. The IV is 96 random bits per blob
 * (SP 800-38D §8.2.2): a KEK seals far fewer than the 2^32 messages §8.3 allows under random IVs.
 *
 * Why the secret needs a layout at all: PKCS#11 v2.40 curr. mech. §2.14 defines CKM_AES_KEY_WRAP_PAD as zero
 * padding "done by the token before being passed to the AES key wrap algorithm", and SoftHSM2 2.6.1 does just that:
 * it pads the key to a multiple of 8 bytes and then applies RFC 5649, so the length authenticated inside the wrap is
 * the padded one, and every unwrap (SoftHSM2's, OpenSSL's id-aes256-wrap-pad, another HSM's) returns the key
 * followed by up to 7 zero bytes. So the exact length must come from us:
 *
 *   layout 1 "framed"  seal(): inner = u32 BE length | bytes | zeros to a multiple of 8. The length is inside the
 *                      wrap, so it is authenticated, and any byte string (even empty) round-trips exactly.
 *   layout 2 "sized"   keys generated in the token: inner = the key value; the header carries its length, checked
 *                      against what the unwrap gave (at most 7 bytes shorter, the cut bytes all zero).
 *   layout 3 "der"     private keys generated in the token, which the token wraps as a PKCS#8 PrivateKeyInfo
 *                      (RFC 5208): the DER header says where the key ends; what follows must be zero padding.
 *
 * A module that pads inside RFC 5649 instead gives the exact length back and passes the same checks.
 */
import { readTlv } from './der.js';
import { HsmError } from './hsm.js';

const MAGIC = 0x4b; // 'K'
const KIND_KEK = 0x4b; // 'K'
const KIND_SECRET = 0x53; // 'S'
const VERSION = 1;
const KEK_HEADER = 4;
const SECRET_HEADER = 8;
/** RFC 5649 pads to 8-byte semiblocks, so a padded unwrap is at most this much longer than the key. */
const SEMIBLOCK = 8;

export type SecretLayout = 'framed' | 'sized' | 'der' | 'gcm';
const layoutCodes: Readonly<Record<SecretLayout, number>> = { framed: 1, sized: 2, der: 3, gcm: 4 };

/** 96-bit IVs are GCM's native size (SP 800-38D §5.2.1.1): no GHASH of the IV, and the PKCS#11 ulIvBits is 96. */
export const GCM_IV_BYTES = 12;
/** Full 128-bit tags (SP 800-38D §5.2.1.2); shorter ones trade away forgery resistance for nothing here. */
export const GCM_TAG_BYTES = 16;

/** SealedSecret['format'] as one byte of the additional authenticated data; never renumber. */
const formatCodes: Readonly<Record<'raw' | 'pkcs8' | 'opaque', number>> = { raw: 1, pkcs8: 2, opaque: 3 };

export function encodeKekBlob(wrapped: Uint8Array): Uint8Array {
  return Buffer.concat([Uint8Array.of(MAGIC, KIND_KEK, VERSION, 0), wrapped]);
}

/** The wrapped KEK inside a KEK blob; a blob from elsewhere (the fake HSM, a newer version) is refused as bad-key. */
export function decodeKekBlob(blob: Uint8Array): Uint8Array {
  if (blob.length <= KEK_HEADER || blob[0] !== MAGIC || blob[1] !== KIND_KEK || blob[2] !== VERSION) {
    throw new HsmError('bad-key', 'KEK blob was not made by this PKCS#11 HSM (or by a newer version)');
  }
  return blob.subarray(KEK_HEADER);
}

export function secretHeader(layout: SecretLayout, length: number): Buffer {
  const header = Buffer.alloc(SECRET_HEADER);
  header.writeUInt8(MAGIC, 0);
  header.writeUInt8(KIND_SECRET, 1);
  header.writeUInt8(VERSION, 2);
  header.writeUInt8(layoutCodes[layout], 3);
  header.writeUInt32BE(length, 4);
  return header;
}

export function encodeSecretBlob(layout: SecretLayout, length: number, wrapped: Uint8Array): Uint8Array {
  return Buffer.concat([secretHeader(layout, length), wrapped]);
}

/**
 * The additional authenticated data of a layout-4 blob: its header, the format the caller files it under and the
 * id of the KEK that sealed it. `header` is the blob's first 8 bytes.
 */
export function gcmAad(header: Uint8Array, format: 'raw' | 'pkcs8' | 'opaque', kekId: string): Buffer {
  return Buffer.concat([header, Uint8Array.of(formatCodes[format]), Buffer.from(kekId, 'utf8')]);
}

/** A layout-4 blob split into the parts C_Decrypt needs; a blob too short to hold an IV and a tag is refused. */
export interface GcmParts {
  readonly header: Uint8Array;
  readonly iv: Uint8Array;
  /** Ciphertext followed by the tag, as PKCS#11 C_Decrypt takes it for CKM_AES_GCM. */
  readonly ciphertext: Uint8Array;
}

export function gcmParts(blob: Uint8Array, decoded: DecodedSecretBlob): GcmParts {
  const body = decoded.wrapped;
  if (body.length !== GCM_IV_BYTES + decoded.length + GCM_TAG_BYTES) {
    throw new HsmError('unseal-failed', 'sealed secret length does not match its contents');
  }
  return {
    header: blob.subarray(0, SECRET_HEADER),
    iv: body.subarray(0, GCM_IV_BYTES),
    ciphertext: body.subarray(GCM_IV_BYTES),
  };
}

export interface DecodedSecretBlob {
  readonly layout: SecretLayout;
  readonly length: number;
  readonly wrapped: Uint8Array;
}

export function decodeSecretBlob(blob: Uint8Array): DecodedSecretBlob {
  if (blob.length <= SECRET_HEADER || blob[0] !== MAGIC || blob[1] !== KIND_SECRET || blob[2] !== VERSION) {
    throw new HsmError(
      'unseal-failed',
      'sealed secret was not made by this PKCS#11 HSM (or by a newer version)',
    );
  }
  const view = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  const code = view.readUInt8(3);
  const layout = (Object.keys(layoutCodes) as SecretLayout[]).find((name) => layoutCodes[name] === code);
  if (layout === undefined) throw new HsmError('unseal-failed', `unknown sealed layout ${String(code)}`);
  return { layout, length: view.readUInt32BE(4), wrapped: blob.subarray(SECRET_HEADER) };
}

/** Builds the inner plaintext of a framed secret. The caller zeroes the result after the token has it. */
export function frame(plaintext: Uint8Array): Buffer {
  const padded = Math.ceil((4 + plaintext.length) / SEMIBLOCK) * SEMIBLOCK;
  const inner = Buffer.alloc(padded);
  inner.writeUInt32BE(plaintext.length, 0);
  inner.set(plaintext, 4);
  return inner;
}

function allZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/**
 * The exact plaintext of an unwrapped inner value, as a fresh copy. `inner` is left for the caller to zero.
 * Any inconsistency means the blob or its header was altered, and is refused as unseal-failed.
 */
export function unframe(decoded: DecodedSecretBlob, inner: Uint8Array): Uint8Array {
  let start = 0;
  let end: number;
  switch (decoded.layout) {
    case 'framed': {
      if (inner.length < 4) throw new HsmError('unseal-failed', 'framed secret too short');
      const length = Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength).readUInt32BE(0);
      start = 4;
      end = start + length;
      break;
    }
    case 'sized':
      end = decoded.length;
      break;
    case 'gcm':
      throw new HsmError('unseal-failed', 'a GCM blob has no key-wrap framing');
    case 'der':
      try {
        end = readTlv(inner, 0).end;
      } catch {
        throw new HsmError('unseal-failed', 'sealed private key is not DER');
      }
      break;
  }
  if (end > inner.length || inner.length - end >= SEMIBLOCK || !allZero(inner.subarray(end))) {
    throw new HsmError('unseal-failed', 'sealed secret length does not match its contents');
  }
  return Uint8Array.from(inner.subarray(start, end));
}
