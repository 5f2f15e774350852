/**
 * The little DER (ITU-T X.690) this layer needs: find where a TLV ends, take the point out of CKA_EC_POINT, and
 * build a DSA SubjectPublicKeyInfo (RFC 3279 §2.3.2), which node:crypto cannot import from JWK. Every reader here
 * is bounds-checked and throws HsmError('bad-key') on anything malformed; nothing here ever sees secret bytes except
 * as lengths.
 */
import { HsmError } from './hsm.js';

/** Tag numbers of the universal types used here (X.690 §8). */
export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_NULL = 0x05;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;

/** DER-encoded OBJECT IDENTIFIER 1.2.840.10040.4.1 (id-dsa, RFC 3279 §2.3.2). */
export const OID_DSA = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01);

export interface Tlv {
  readonly tag: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just after the last content byte. */
  readonly end: number;
}

export function malformed(what: string): HsmError {
  return new HsmError('bad-key', `malformed DER: ${what}`);
}

/**
 * Reads one TLV header at `offset` (definite lengths only, as DER requires, X.690 §10.1). Lengths are capped at
 * four length octets: nothing this layer reads is anywhere near 4 GiB, and the cap keeps the arithmetic exact.
 */
export function readTlv(bytes: Uint8Array, offset: number): Tlv {
  const tag = bytes[offset];
  const first = bytes[offset + 1];
  if (tag === undefined || first === undefined) throw malformed('truncated header');
  let length = first;
  let contentStart = offset + 2;
  if (first & 0x80) {
    const count = first & 0x7f;
    if (count === 0 || count > 4) throw malformed('unsupported length form');
    length = 0;
    for (let i = 0; i < count; i += 1) {
      const octet = bytes[contentStart + i];
      if (octet === undefined) throw malformed('truncated length');
      length = length * 256 + octet;
    }
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > bytes.length) throw malformed('content runs past the end');
  return { tag, contentStart, end };
}

/**
 * The uncompressed point inside CKA_EC_POINT. PKCS#11 v2.40 curr. mech. §2.3.3 says the attribute is the DER OCTET STRING
 * wrapping the X9.62 ECPoint, but some modules return the bare point; a bare uncompressed point has exactly
 * 1 + 2 * fieldBytes bytes and starts with 0x04, which is how the two are told apart.
 */
export function ecPointFromAttribute(attribute: Uint8Array, fieldBytes: number): Uint8Array {
  const bare = 1 + 2 * fieldBytes;
  if (attribute.length === bare && attribute[0] === 0x04) return attribute;
  const tlv = readTlv(attribute, 0);
  if (tlv.tag !== TAG_OCTET_STRING || tlv.end !== attribute.length) throw malformed('CKA_EC_POINT');
  const point = attribute.subarray(tlv.contentStart, tlv.end);
  if (point.length !== bare || point[0] !== 0x04) throw malformed('EC point is not uncompressed');
  return point;
}

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const octets: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets.unshift(rest % 256);
  return Uint8Array.of(0x80 | octets.length, ...octets);
}

export function tlv(tag: number, ...contents: readonly Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  return Buffer.concat([Uint8Array.of(tag), encodeLength(body.length), body]);
}

/** A non-negative INTEGER from big-endian magnitude bytes (X.690 §8.3: minimal, with a 0x00 when the top bit is set). */
export function unsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start += 1;
  const trimmed = magnitude.subarray(start);
  const first = trimmed[0] ?? 0;
  return tlv(
    TAG_INTEGER,
    first & 0x80 ? Uint8Array.of(0) : new Uint8Array(0),
    trimmed.length ? trimmed : Uint8Array.of(0),
  );
}

/** SubjectPublicKeyInfo for a DSA public key y with domain parameters p, q, g (RFC 3279 §2.3.2). */
export function dsaSpki(p: Uint8Array, q: Uint8Array, g: Uint8Array, y: Uint8Array): Uint8Array {
  const algorithm = tlv(
    TAG_SEQUENCE,
    OID_DSA,
    tlv(TAG_SEQUENCE, unsignedInteger(p), unsignedInteger(q), unsignedInteger(g)),
  );
  const key = unsignedInteger(y);
  return tlv(TAG_SEQUENCE, algorithm, tlv(TAG_BIT_STRING, Uint8Array.of(0), key));
}
