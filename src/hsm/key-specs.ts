/**
 * What both Hsm implementations accept, checked in one place so that the fake and the token refuse the same
 * requests with the same HsmError. Sizes follow what KMIP clients ask for (KMIP 1.4 §3.5 Cryptographic Length is
 * in bits) and what the token can generate.
 */
import { HsmError, type CurveName, type KeyPairSpec, type SecretKeyAlgorithm, type WrapMode } from './hsm.js';

/**
 * Upper bound on what seal() takes and random() returns. It protects the token and the thread pool from a single
 * request holding a session for long, and the process from a large copy; KMIP Opaque Objects and certificates are
 * kilobytes, far below it.
 */
export const MAX_SECRET_BYTES = 1024 * 1024;

export type SecretKeyKind = 'AES' | 'DES' | 'DES2' | 'DES3' | 'GENERIC';

export interface SecretKeyShape {
  readonly kind: SecretKeyKind;
  /** Length of the key material in bytes (DES keys include their parity bits). */
  readonly bytes: number;
}

/** Maps a requested algorithm and bit length to the key the token makes, or refuses it. */
export function secretKeyShape(algorithm: SecretKeyAlgorithm, bits: number): SecretKeyShape {
  const refuse = (allowed: string): HsmError =>
    new HsmError('unsupported', `${algorithm} keys are ${allowed} bits, not ${String(bits)}`);
  if (!Number.isInteger(bits)) throw refuse('a whole number of');
  switch (algorithm) {
    case 'AES':
      if (bits === 128 || bits === 192 || bits === 256) return { kind: 'AES', bytes: bits / 8 };
      throw refuse('128, 192 or 256');
    case 'DES':
      // Clients give single DES as 56 (effective) or 64 (with parity) bits; the key is 8 bytes either way.
      if (bits === 56 || bits === 64) return { kind: 'DES', bytes: 8 };
      throw refuse('56 or 64');
    case 'DES3':
      if (bits === 112 || bits === 128) return { kind: 'DES2', bytes: 16 };
      if (bits === 168 || bits === 192) return { kind: 'DES3', bytes: 24 };
      throw refuse('112, 128, 168 or 192');
    case 'HMAC-SHA1':
    case 'HMAC-SHA224':
    case 'HMAC-SHA256':
    case 'HMAC-SHA384':
    case 'HMAC-SHA512':
      // Any whole number of bytes; 8192 bits is past every HMAC block size, so longer keys would only be hashed.
      if (bits >= 8 && bits <= 8192 && bits % 8 === 0) return { kind: 'GENERIC', bytes: bits / 8 };
      throw refuse('a multiple of 8 from 8 to 8192');
    case 'SKIPJACK':
      // FIPS 185: an 80-bit key. The token has no SKIPJACK mechanism, so the key is made as a generic secret of
      // that size, generated and sealed inside the token like any other; nothing here ciphers with it.
      if (bits === 80) return { kind: 'GENERIC', bytes: 10 };
      throw refuse('80');
  }
}

export type { CurveName };

/** Per curve: the DER OID that CKA_EC_PARAMS takes (PKCS#11 v2.40 curr. mech. §2.3.3, RFC 5480 §2.1.1.1) and the field size. */
export const curves: Readonly<Record<CurveName, { readonly oid: Uint8Array; readonly fieldBytes: number }>> =
  {
    'P-256': {
      oid: Uint8Array.of(0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07),
      fieldBytes: 32,
    },
    'P-384': { oid: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22), fieldBytes: 48 },
    'P-521': { oid: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23), fieldBytes: 66 },
    secp256k1: { oid: Uint8Array.of(0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x0a), fieldBytes: 32 },
  };

export type CheckedKeyPairSpec =
  | { readonly algorithm: 'RSA'; readonly bits: number; readonly publicExponent: bigint }
  | { readonly algorithm: 'EC'; readonly curve: CurveName }
  | { readonly algorithm: 'DSA'; readonly bits: number };

/** RSA public exponent when the caller names none (the F4 prime everyone uses). */
const DEFAULT_PUBLIC_EXPONENT = 65537n;

/** Validates a key pair request; RSA sizes are bounded because a 16k-bit generation holds a session for minutes. */
export function checkKeyPairSpec(spec: KeyPairSpec): CheckedKeyPairSpec {
  switch (spec.algorithm) {
    case 'RSA': {
      const { bits } = spec;
      if (!Number.isInteger(bits) || bits < 1024 || bits > 4096 || bits % 8 !== 0) {
        throw new HsmError(
          'unsupported',
          `RSA keys are 1024 to 4096 bits in steps of 8, not ${String(bits)}`,
        );
      }
      const publicExponent = spec.publicExponent ?? DEFAULT_PUBLIC_EXPONENT;
      // FIPS 186-4 §B.3.1: an odd e with 2^16 < e < 2^256; 3 is still met in the wild, so allow from 3.
      if (publicExponent < 3n || publicExponent >= 1n << 256n || publicExponent % 2n === 0n) {
        throw new HsmError('unsupported', 'RSA public exponent must be odd, at least 3 and below 2^256');
      }
      return { algorithm: 'RSA', bits, publicExponent };
    }
    case 'EC':
      if (!Object.hasOwn(curves, spec.curve)) {
        throw new HsmError('unsupported', `EC curve ${spec.curve} is not supported`);
      }
      return { algorithm: 'EC', curve: spec.curve };
    case 'DSA':
      // FIPS 186-4 §4.2 sizes (L = 1024, 2048, 3072), each with its usual N.
      if (spec.bits !== 1024 && spec.bits !== 2048 && spec.bits !== 3072) {
        throw new HsmError('unsupported', `DSA keys are 1024, 2048 or 3072 bits, not ${String(spec.bits)}`);
      }
      return { algorithm: 'DSA', bits: spec.bits };
  }
}

/** The FIPS 186-4 §4.2 subprime size N for a DSA prime size L. */
export function dsaSubprimeBits(bits: number): number {
  return bits === 1024 ? 160 : 256;
}

/** Big-endian magnitude bytes of a positive bigint (for CKA_PUBLIC_EXPONENT). */
export function bigintToBytes(value: bigint): Buffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  return Buffer.from(hex, 'hex');
}

export function checkSealInput(plaintext: Uint8Array): void {
  if (plaintext.length > MAX_SECRET_BYTES) {
    throw new HsmError(
      'unsupported',
      `cannot seal ${String(plaintext.length)} bytes (limit ${String(MAX_SECRET_BYTES)})`,
    );
  }
}

/**
 * What wrap() takes: KW needs at least two 8-byte semiblocks and whole semiblocks (RFC 3394 §2; SP 800-38F §6.2).
 * KWP is refused for a length that is not whole semiblocks too: SoftHSM2 2.6.1 zero-pads the value *before* RFC 5649
 * (envelope.ts), so its result would unwrap, anywhere else, to the value followed by zero bytes. A TTLV-encoded Key
 * Value is always whole semiblocks (KMIP 1.4 §9.1.1.3 pads every item to 8 bytes).
 */
export function checkWrapInput(mode: WrapMode, data: Uint8Array): void {
  checkSealInput(data);
  if (data.length % 8 !== 0 || data.length < (mode === 'KW' ? 16 : 8)) {
    throw new HsmError(
      'bad-input',
      mode === 'KW'
        ? `AES Key Wrap takes whole 8-byte semiblocks, at least 16 bytes, not ${String(data.length)} bytes`
        : `AES Key Wrap with Padding of ${String(data.length)} bytes: the token pads before wrapping, so only ` +
            'whole 8-byte semiblocks unwrap to the exact value',
    );
  }
}

/** What unwrap() takes: KW at least three semiblocks (RFC 3394 §2.2.2), KWP at least two, both whole semiblocks. */
export function checkUnwrapInput(mode: WrapMode, wrapped: Uint8Array): void {
  checkSealInput(wrapped);
  if (wrapped.length % 8 !== 0 || wrapped.length < (mode === 'KW' ? 24 : 16)) {
    throw new HsmError(
      'bad-input',
      `${mode === 'KW' ? 'AES Key Wrap' : 'AES Key Wrap with Padding'} output is whole 8-byte semiblocks, at least ` +
        `${mode === 'KW' ? '24' : '16'} bytes, not ${String(wrapped.length)} bytes`,
    );
  }
}

/**
 * What pbkdf2() takes: at least one iteration and at most MAX_PBKDF2_ITERATIONS, because every iteration is a token
 * call on the one token thread (about 10 µs each on SoftHSM2 2.6.1: the limit is about a second of it); and 1 to
 * MAX_SECRET_BYTES bytes of output.
 */
export const MAX_PBKDF2_ITERATIONS = 100_000;
export function checkPbkdf2(iterations: number, length: number): void {
  if (!Number.isInteger(iterations) || iterations < 1 || iterations > MAX_PBKDF2_ITERATIONS) {
    throw new HsmError(
      'bad-input',
      `PBKDF2 takes 1 to ${String(MAX_PBKDF2_ITERATIONS)} iterations here, not ${String(iterations)}`,
    );
  }
  if (!Number.isInteger(length) || length < 1 || length > MAX_SECRET_BYTES) {
    throw new HsmError('bad-input', `PBKDF2 output of ${String(length)} bytes is not offered`);
  }
}

export function checkRandomLength(length: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_SECRET_BYTES) {
    throw new HsmError('unsupported', `random length must be 0 to ${String(MAX_SECRET_BYTES)} bytes`);
  }
}

/** Sets the odd-parity bit of each DES key byte (FIPS 46-3 §3), as the token's own DES key generation does. */
export function setDesParity(key: Uint8Array): void {
  for (let i = 0; i < key.length; i += 1) {
    const byte = key[i] ?? 0;
    let ones = 0;
    for (let bit = 1; bit < 0x100; bit <<= 1) if (byte & bit & 0xfe) ones += 1;
    key[i] = (byte & 0xfe) | (ones % 2 === 0 ? 1 : 0);
  }
}
