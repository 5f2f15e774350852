/**
 * Token objects from DER keys: the PKCS#11 attributes of a private key (PKCS#8 PrivateKeyInfo, RFC 5208) or a
 * public key (SubjectPublicKeyInfo, RFC 5280 §4.1.2.7) for C_CreateObject, and the conversion of ECDSA/DSA
 * signatures between the token's r || s and the DER form KMIP clients exchange.
 *
 * The private key values returned are views into the caller's buffer, not copies: the caller moves that one
 * buffer to the token thread, which zeroes it after C_CreateObject, so no second copy of a private component is
 * ever made in JavaScript memory (node:crypto's JWK export would give immutable strings that cannot be zeroed).
 */
import {
  malformed,
  OID_DSA,
  readTlv,
  TAG_BIT_STRING,
  TAG_INTEGER,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  tlv,
  unsignedInteger,
  type Tlv,
} from './der.js';
import { HsmError } from './hsm.js';
import { ck } from './pkcs11-module.js';

/** 1.2.840.113549.1.1.1 rsaEncryption (RFC 8017 App. C). */
const OID_RSA = Uint8Array.of(0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01);
/** 1.2.840.10045.2.1 id-ecPublicKey (RFC 5480 §2.1.1). */
const OID_EC = Uint8Array.of(0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01);

export type AsymmetricKeyType = 'RSA' | 'EC' | 'DSA';

/** One attribute of a key object: a CKA_* type and its value (a view, see the file comment). */
export interface KeyAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

export interface KeyObjectTemplate {
  readonly keyType: AsymmetricKeyType;
  readonly attributes: readonly KeyAttribute[];
}

/** The CKK_* value of a key type. */
export function keyTypeCode(keyType: AsymmetricKeyType): number {
  return keyType === 'RSA' ? ck.CKK_RSA : keyType === 'EC' ? ck.CKK_EC : ck.CKK_DSA;
}

/** The elements of a constructed TLV, in order. */
function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  const found: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readTlv(bytes, offset);
    if (child.end > parent.end) throw malformed('element runs past its parent');
    found.push(child);
    offset = child.end;
  }
  return found;
}

function expect(item: Tlv | undefined, tag: number, what: string): Tlv {
  if (item?.tag !== tag) throw malformed(`${what} missing`);
  return item;
}

function content(bytes: Uint8Array, item: Tlv): Uint8Array {
  return bytes.subarray(item.contentStart, item.end);
}

/** An INTEGER's magnitude, without the sign octet DER adds before a set top bit. */
function magnitude(bytes: Uint8Array, item: Tlv | undefined, what: string): Uint8Array {
  const value = content(bytes, expect(item, TAG_INTEGER, what));
  return value.length > 1 && value[0] === 0 ? value.subarray(1) : value;
}

function whole(bytes: Uint8Array, item: Tlv): Uint8Array {
  return bytes.subarray(readStart(item), item.end);
}

/** The offset of a TLV's tag byte, recovered from its header size. */
function readStart(item: Tlv): number {
  return item.contentStart - headerLength(item.end - item.contentStart);
}

function headerLength(length: number): number {
  if (length < 0x80) return 2;
  let octets = 0;
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) octets += 1;
  return 2 + octets;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function algorithmOf(bytes: Uint8Array, identifier: Tlv): { keyType: AsymmetricKeyType; parameters: Tlv[] } {
  const [oid, ...parameters] = children(bytes, expect(identifier, TAG_SEQUENCE, 'AlgorithmIdentifier'));
  const oidBytes = whole(bytes, expect(oid, TAG_OID, 'algorithm OID'));
  if (sameBytes(oidBytes, OID_RSA)) return { keyType: 'RSA', parameters };
  if (sameBytes(oidBytes, OID_EC)) return { keyType: 'EC', parameters };
  if (sameBytes(oidBytes, OID_DSA)) return { keyType: 'DSA', parameters };
  throw new HsmError('unsupported', 'the key is not an RSA, EC or DSA key');
}

function dsaDomain(bytes: Uint8Array, parameters: Tlv[]): KeyAttribute[] {
  const [p, q, g] = children(bytes, expect(parameters[0], TAG_SEQUENCE, 'DSA parameters'));
  return [
    { type: ck.CKA_PRIME, value: magnitude(bytes, p, 'DSA p') },
    { type: ck.CKA_SUBPRIME, value: magnitude(bytes, q, 'DSA q') },
    { type: ck.CKA_BASE, value: magnitude(bytes, g, 'DSA g') },
  ];
}

/** The attributes of a private key object, from a PKCS#8 PrivateKeyInfo (RFC 5208 §5). */
export function privateKeyTemplate(der: Uint8Array): KeyObjectTemplate {
  const outer = readTlv(der, 0);
  if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) throw malformed('PrivateKeyInfo');
  const [version, identifier, privateKey] = children(der, outer);
  expect(version, TAG_INTEGER, 'PrivateKeyInfo version');
  const { keyType, parameters } = algorithmOf(der, expect(identifier, TAG_SEQUENCE, 'algorithm'));
  const inner = content(der, expect(privateKey, TAG_OCTET_STRING, 'privateKey'));
  switch (keyType) {
    case 'RSA': {
      // RSAPrivateKey (RFC 8017 §A.1.2): version, n, e, d, p, q, dp, dq, qInv.
      const sequence = readTlv(inner, 0);
      const [, n, e, d, p, q, dp, dq, qi] = children(inner, expect(sequence, TAG_SEQUENCE, 'RSAPrivateKey'));
      return {
        keyType,
        attributes: [
          { type: ck.CKA_MODULUS, value: magnitude(inner, n, 'RSA n') },
          { type: ck.CKA_PUBLIC_EXPONENT, value: magnitude(inner, e, 'RSA e') },
          { type: ck.CKA_PRIVATE_EXPONENT, value: magnitude(inner, d, 'RSA d') },
          { type: ck.CKA_PRIME_1, value: magnitude(inner, p, 'RSA p') },
          { type: ck.CKA_PRIME_2, value: magnitude(inner, q, 'RSA q') },
          { type: ck.CKA_EXPONENT_1, value: magnitude(inner, dp, 'RSA dp') },
          { type: ck.CKA_EXPONENT_2, value: magnitude(inner, dq, 'RSA dq') },
          { type: ck.CKA_COEFFICIENT, value: magnitude(inner, qi, 'RSA qInv') },
        ],
      };
    }
    case 'EC': {
      // ECPrivateKey (RFC 5915 §3): version 1, privateKey OCTET STRING, [0] parameters, [1] publicKey.
      const sequence = readTlv(inner, 0);
      const [, d, ...rest] = children(inner, expect(sequence, TAG_SEQUENCE, 'ECPrivateKey'));
      const curve = parameters[0] ?? rest.find((item) => item.tag === 0xa0);
      if (curve === undefined) throw malformed('EC key without a named curve');
      const curveOid =
        curve.tag === TAG_OID
          ? whole(der, curve)
          : whole(inner, expect(children(inner, curve)[0], TAG_OID, 'curve'));
      return {
        keyType,
        attributes: [
          { type: ck.CKA_EC_PARAMS, value: curveOid },
          { type: ck.CKA_VALUE, value: content(inner, expect(d, TAG_OCTET_STRING, 'EC private key')) },
        ],
      };
    }
    case 'DSA': {
      const x = readTlv(inner, 0);
      return {
        keyType,
        attributes: [
          ...dsaDomain(der, parameters),
          { type: ck.CKA_VALUE, value: magnitude(inner, x, 'DSA x') },
        ],
      };
    }
  }
}

/** The attributes of a public key object, from a SubjectPublicKeyInfo (RFC 5280 §4.1.2.7; RFC 3279 §2.3). */
export function publicKeyTemplate(der: Uint8Array): KeyObjectTemplate {
  const outer = readTlv(der, 0);
  if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) throw malformed('SubjectPublicKeyInfo');
  const [identifier, bitString] = children(der, outer);
  const { keyType, parameters } = algorithmOf(der, expect(identifier, TAG_SEQUENCE, 'algorithm'));
  const bits = content(der, expect(bitString, TAG_BIT_STRING, 'subjectPublicKey'));
  if (bits[0] !== 0) throw malformed('subjectPublicKey has unused bits');
  const key = bits.subarray(1);
  switch (keyType) {
    case 'RSA': {
      // RSAPublicKey (RFC 8017 §A.1.1): n, e.
      const [n, e] = children(key, expect(readTlv(key, 0), TAG_SEQUENCE, 'RSAPublicKey'));
      return {
        keyType,
        attributes: [
          { type: ck.CKA_MODULUS, value: magnitude(key, n, 'RSA n') },
          { type: ck.CKA_PUBLIC_EXPONENT, value: magnitude(key, e, 'RSA e') },
        ],
      };
    }
    case 'EC': {
      const curve = expect(parameters[0], TAG_OID, 'named curve');
      // CKA_EC_POINT is the DER OCTET STRING of the X9.62 point (PKCS#11 v2.40 curr. mech. §2.3.3).
      return {
        keyType,
        attributes: [
          { type: ck.CKA_EC_PARAMS, value: whole(der, curve) },
          { type: ck.CKA_EC_POINT, value: tlv(TAG_OCTET_STRING, key) },
        ],
      };
    }
    case 'DSA':
      return {
        keyType,
        attributes: [
          ...dsaDomain(der, parameters),
          { type: ck.CKA_VALUE, value: magnitude(key, readTlv(key, 0), 'DSA y') },
        ],
      };
  }
}

/** The DER Ecdsa-Sig-Value / Dss-Sig-Value (RFC 3279 §2.2.2, §2.2.3) of the token's r || s signature. */
export function signatureToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new HsmError('token-error', 'odd-length r || s signature');
  const half = raw.length / 2;
  return tlv(TAG_SEQUENCE, unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

/**
 * r || s, each left-padded to `half` bytes, from a DER Ecdsa-Sig-Value / Dss-Sig-Value; undefined when the
 * signature is not well-formed or a value does not fit (such a signature can only be invalid).
 */
export function signatureFromDer(der: Uint8Array, half: number): Uint8Array | undefined {
  try {
    const outer = readTlv(der, 0);
    if (outer.tag !== TAG_SEQUENCE || outer.end !== der.length) return undefined;
    const parts = children(der, outer);
    if (parts.length !== 2) return undefined;
    const raw = new Uint8Array(2 * half);
    for (const [index, part] of parts.entries()) {
      const value = magnitude(der, part, 'signature value');
      if (value.length > half) return undefined;
      raw.set(value, (index + 1) * half - value.length);
    }
    return raw;
  } catch (error) {
    if (error instanceof HsmError) return undefined;
    throw error;
  }
}
