/**
 * Attributes the server sets itself when an object comes into being, beyond those of every object
 * (managed-object.ts serverAttributes):
 * - Digest (KMIP 1.4 §3.17, 2.1 §4.17): a SHA-256 instance, always, computed by the token: over the Key Material
 *   as registered (its Byte String, or the TTLV encoding of a Key Material structure) with the registered Key
 *   Format Type, over the Certificate Value or the Opaque Data Value; for keys the token generates, over the form
 *   the server serves them in by default (Raw for secret keys, PKCS#1 for RSA, PKCS#8 / X.509 otherwise);
 * - Original Creation Date and Random Number Generator (1.4 §3.43, §3.44; 2.1 §4.39, §4.49) for objects the
 *   server generates: Create and Create Key Pair. The generator is described as Query RNGs describes it;
 * - Fresh (2.1 §4.24) on every new object.
 */
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValue, enumValues, tags } from '../kmip/vocabulary.js';
import type { RequestContext, RngDescription } from './context.js';
import { nowSeconds, ObjectType, single } from './managed-object.js';

const T = tags(
  'Digest',
  'HashingAlgorithm',
  'DigestValue',
  'KeyFormatType',
  'KeyBlock',
  'KeyValue',
  'KeyMaterial',
  'CertificateValue',
  'OpaqueDataValue',
  'OriginalCreationDate',
  'RandomNumberGenerator',
  'RNGAlgorithm',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'Fresh',
  'AlwaysSensitive',
  'NeverExtractable',
  'Sensitive',
  'Extractable',
  'LeaseTime',
);
const RNGAlgorithm = enumValues('RNGAlgorithm', 'Unspecified', 'DRBG');
const RawFormat = enumValue('KeyFormatType', 'Raw');

/**
 * RNG Parameters (KMIP 1.4 §2.1.18) under `tag` for the server's generator: a CTR_DRBG as RNG Algorithm DRBG with
 * its block cipher and key length (the form of the 1.4 test case TC-Q-RNGS-6), or RNG Algorithm Unspecified when
 * the server cannot tell (§4.25: "If the server is unable to specify details of the RNG then it SHALL return an RNG
 * Parameters with the RNG Algorithm enumeration of Unspecified").
 */
export function rngParameters(tag: number, rng: RngDescription | undefined): TtlvItem {
  if (rng === undefined)
    return ttlv.structure(tag, [ttlv.enumeration(T.RNGAlgorithm, RNGAlgorithm.Unspecified)]);
  return ttlv.structure(tag, [
    ttlv.enumeration(T.RNGAlgorithm, RNGAlgorithm.DRBG),
    ttlv.enumeration(T.CryptographicAlgorithm, enumValue('CryptographicAlgorithm', rng.cipher)),
    ttlv.integer(T.CryptographicLength, rng.keyBits),
  ]);
}

/** The mandatory SHA-256 Digest instance of `bytes`, computed by the token. */
export async function digestAttribute(
  bytes: Uint8Array,
  keyFormatType: number | undefined,
  ctx: RequestContext,
): Promise<Attribute> {
  const value = await ctx.keys.hsm.digest('SHA-256', bytes);
  return digestOf(value, keyFormatType);
}

/** A Digest attribute from a SHA-256 value the token already computed. */
export function digestOf(sha256: Uint8Array, keyFormatType: number | undefined): Attribute {
  return {
    kind: 'standard',
    value: ttlv.structure(T.Digest, [
      ttlv.enumeration(T.HashingAlgorithm, enumValue('HashingAlgorithm', 'SHA_256')),
      ttlv.byteString(T.DigestValue, sha256),
      ...(keyFormatType === undefined ? [] : [ttlv.enumeration(T.KeyFormatType, keyFormatType)]),
    ]),
  };
}

function child(item: TtlvItem | undefined, tag: number): TtlvItem | undefined {
  return item?.type === ItemType.Structure ? item.value.find((c) => c.tag === tag) : undefined;
}

/**
 * The Digest of a registered object (§3.17: "For objects registered by a client, the server SHALL compute the
 * digest ... using the Key Format Type of the registered object"), or undefined for an object with nothing to
 * digest (a wrapped key: the server does not see its Key Material; a template).
 */
export async function registeredDigest(
  structure: StructureItem,
  ctx: RequestContext,
): Promise<Attribute | undefined> {
  const block = child(structure, T.KeyBlock);
  if (block) {
    const format = child(block, T.KeyFormatType);
    const material = child(child(block, T.KeyValue), T.KeyMaterial);
    if (material === undefined || format?.type !== ItemType.Enumeration) return undefined;
    const bytes = material.type === ItemType.ByteString ? material.value : encodeTtlv(material);
    try {
      return await digestAttribute(bytes, format.value, ctx);
    } finally {
      if (material.type !== ItemType.ByteString) bytes.fill(0);
    }
  }
  // A certificate's Digest names Raw as its Key Format Type, the bytes of the Certificate Value as they are (the
  // OASIS reference server's answer in TC-CERTATTR-1); an opaque object's names none.
  const certificate = child(structure, T.CertificateValue);
  if (certificate?.type === ItemType.ByteString) return digestAttribute(certificate.value, RawFormat, ctx);
  const opaque = child(structure, T.OpaqueDataValue);
  return opaque?.type === ItemType.ByteString ? digestAttribute(opaque.value, undefined, ctx) : undefined;
}

/**
 * The longest lease this server grants on an object, in seconds: the Lease Time it stores on every cryptographic
 * object it creates or registers (KMIP 1.4 §3.20, 2.1 §4.30: "A server SHALL store in this attribute the maximum
 * Lease Time it is able to serve"), which Obtain Lease answers and Check compares with. An hour, as the reference
 * server of the OASIS vectors gives.
 */
export const LEASE_TIME_SECONDS = 3600;

/**
 * Lease Time for a new object: implicitly set by Create, Create Key Pair, Register, Re-key and Re-key Key Pair on
 * "All Cryptographic Objects" (1.4 §3.20), which an Opaque Object is not.
 */
export function leaseTimeAttributes(objectType: number): Attribute[] {
  return objectType === ObjectType.OpaqueObject
    ? []
    : [{ kind: 'standard', value: ttlv.interval(T.LeaseTime, LEASE_TIME_SECONDS) }];
}

/**
 * Every object the server generates is a cryptographic object (keys from Create, Create Key Pair, Re-key, Re-key Key
 * Pair; Secret Data from Create), which has a Lease Time.
 */
const generatedLeaseTime = leaseTimeAttributes(ObjectType.SymmetricKey);

/**
 * Original Creation Date and Random Number Generator for an object the server generates, unless the client's
 * template set them (§3.44 lets a template name the generator).
 */
export function generationAttributes(given: readonly Attribute[], ctx: RequestContext): Attribute[] {
  const out: Attribute[] = [];
  if (!single(given, 'OriginalCreationDate')) {
    out.push({ kind: 'standard', value: ttlv.dateTime(T.OriginalCreationDate, nowSeconds(ctx)) });
  }
  if (!single(given, 'RandomNumberGenerator')) {
    out.push({ kind: 'standard', value: rngParameters(T.RandomNumberGenerator, ctx.rng) });
  }
  return out;
}

/** What a generated key has beyond its material: generationAttributes, its Lease Time and the new-object flags. */
export function generatedObjectAttributes(given: readonly Attribute[], ctx: RequestContext): Attribute[] {
  return [...generationAttributes(given, ctx), ...generatedLeaseTime, ...newObjectFlags(given)];
}

/**
 * The Boolean attributes the server sets on every new object: Fresh (KMIP 1.1 §3.34, 2.1 §4.24), True "unless the
 * client provides a False value in Register or Import" (Get turns it False when it serves the object); Sensitive
 * and Extractable (1.4 §3.48, §3.50; 2.1 §4.47, §4.20), which "SHALL always have a value": False and True unless
 * the client gave them; and Always Sensitive and Never Extractable (1.4 §3.49, §3.51; 2.1 §4.4, §4.36), what
 * those two have been since creation. Versions before 1.4 do not define the last four, and never see them.
 */
export function newObjectFlags(given: readonly Attribute[]): Attribute[] {
  const flag = (name: string): boolean | undefined => {
    const item = single(given, name);
    return item?.type === ItemType.Boolean ? item.value : undefined;
  };
  const sensitive = flag('Sensitive');
  const extractable = flag('Extractable');
  const unless = (name: string, value: TtlvItem): Attribute[] =>
    single(given, name) ? [] : [{ kind: 'standard', value }];
  return [
    ...unless('Fresh', ttlv.boolean(T.Fresh, true)),
    ...unless('Sensitive', ttlv.boolean(T.Sensitive, false)),
    ...unless('AlwaysSensitive', ttlv.boolean(T.AlwaysSensitive, sensitive ?? false)),
    ...unless('Extractable', ttlv.boolean(T.Extractable, true)),
    ...unless('NeverExtractable', ttlv.boolean(T.NeverExtractable, !(extractable ?? true))),
  ];
}
