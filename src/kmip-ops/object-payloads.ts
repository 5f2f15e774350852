import { createPrivateKey, createPublicKey } from 'node:crypto';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import { Fields } from '../kmip/fields.js';
import { registryFor, versionAtLeast } from '../kmip/registry.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import { certificateAttributes } from './certificate-attributes.js';
import { clientAttributes } from './template.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { ObjectType, single, type ManagedObject, type Material } from './managed-object.js';

/**
 * The object structures of Register and Get (KMIP 1.4 §2.2, 2.1 §2.2): Symmetric Key, Public Key, Private Key,
 * Secret Data, Opaque Object, Certificate, Split Key, PGP Key, each around a Key Block or a value. Secret ones are
 * kept sealed as registered, so Get gives back the same bytes; Get converts between key formats where the
 * conversion is defined.
 */

const T = tags(
  'KeyValuePresent',
  'SecretDataType',
  'SymmetricKey',
  'PublicKey',
  'PrivateKey',
  'SecretData',
  'OpaqueObject',
  'Certificate',
  'SplitKey',
  'PGPKey',
  'Template',
  'Name',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CertificateType',
  'CertificateValue',
  'CertificateLength',
  'Key',
  'KeyWrappingData',
);

export const KeyFormat = enumValues(
  'KeyFormatType',
  'Raw',
  'Opaque',
  'PKCS_1',
  'PKCS_8',
  'X_509',
  'ECPrivateKey',
  'TransparentSymmetricKey',
  'TransparentRSAPrivateKey',
  'TransparentRSAPublicKey',
  'PKCS_12',
);

const Algorithm = enumValues('CryptographicAlgorithm', 'AES', 'DES', 'DES3', 'RSA', 'DSA', 'ECDSA', 'EC');

const structureTagByType = new Map<number, number>([
  [ObjectType.SymmetricKey, T.SymmetricKey],
  [ObjectType.PublicKey, T.PublicKey],
  [ObjectType.PrivateKey, T.PrivateKey],
  [ObjectType.SecretData, T.SecretData],
  [ObjectType.OpaqueObject, T.OpaqueObject],
  [ObjectType.Certificate, T.Certificate],
  [ObjectType.SplitKey, T.SplitKey],
  [ObjectType.PGPKey, T.PGPKey],
  // KMIP 1.x only (1.4 §2.2.6, deprecated since 1.3, gone in 2.0: the 2.x registries lack the tag).
  [ObjectType.Template, T.Template],
]);

/** The Object Type whose structure has this tag (Symmetric Key → SymmetricKey ...), if any. */
export function objectTypeOfStructureTag(structureTagValue: number): number | undefined {
  return [...structureTagByType].find(([, t]) => t === structureTagValue)?.[0];
}

/**
 * Public keys and certificates are not secret (DESIGN.md: "may be stored in clear"), and a Template holds only
 * the client-settable attributes of the objects made from it.
 */
const clearTypes = new Set([ObjectType.PublicKey, ObjectType.Certificate, ObjectType.Template]);

export function structureTag(objectType: number, ctx: RequestContext): number {
  const t = structureTagByType.get(objectType);
  if (t === undefined || !registryFor(ctx.version).tag(t)) {
    throw errors.invalidField(`Object Type ${objectType} cannot be registered in KMIP ${ctx.version}`);
  }
  return t;
}

/**
 * The object structure of a Register (or Import) request, checked for the fields its type needs. A PKCS#12
 * container is taken only where the caller reads it (`pkcs12`: Register, pkcs12-objects.ts).
 */
export function readObjectStructure(
  payload: Fields,
  objectType: number,
  ctx: RequestContext,
  options: { readonly pkcs12?: boolean } = {},
): StructureItem {
  const t = structureTag(objectType, ctx);
  const name = registryFor(ctx.version).tag(t)?.xmlName ?? 'object';
  const item = payload.required(name);
  const fields = new Fields(item, ctx.version, `${payload.path}/${name}`);
  if (t === T.Certificate) {
    fields.requiredEnumeration('CertificateType');
    fields.required('CertificateValue');
    fields.bytes('CertificateValue');
  } else if (t === T.Template) {
    // The attributes it holds are given to objects as a request's own would be: checked the same way now, so that
    // a template naming a server-only attribute is refused when registered rather than at every use. A Name inside
    // it is Invalid Field (KMIP 1.4 Table 330): the template's own Name goes in the Template-Attribute.
    const held = clientAttributes(fields, ctx);
    if (held.some((a) => a.kind === 'standard' && a.value.tag === T.Name)) {
      throw errors.invalidField(
        'a Template may not hold a Name: give the template its Name in the Template-Attribute',
      );
    }
  } else if (t === T.OpaqueObject) {
    fields.requiredEnumeration('OpaqueDataType');
    fields.required('OpaqueDataValue');
  } else {
    const block = fields.requiredStruct('KeyBlock');
    const format = block.requiredEnumeration('KeyFormatType');
    if (format === KeyFormat.PKCS_12) {
      // A PKCS#12 container (1.4 §3.45) in the Key Value itself, as the 1.4 test cases send it, or as the Key
      // Material of a Key Value structure (2.0's): read at Register (pkcs12-objects.ts) into the key and its chain.
      if (options.pkcs12 !== true) {
        throw errors.keyFormatTypeNotSupported(
          'a PKCS#12 container is taken by Register, with its PKCS#12 Password Link',
        );
      }
      if (t !== T.PrivateKey) throw errors.invalidField('a PKCS#12 container is registered as a Private Key');
      pkcs12Container(fields.item);
      return fields.item;
    }
    // From KMIP 1.4 a key may be registered without its Key Value, which lives elsewhere (§3.41 Key Value Present,
    // §3.42 Key Value Location): a key given one must give its Key Material.
    const keyValue = block.optional('KeyValue');
    const valueMayBeAbsent = versionAtLeast(ctx.version, '1.4') && t !== T.PublicKey;
    if (!block.optional('KeyWrappingData') && (keyValue !== undefined || !valueMayBeAbsent)) {
      block.requiredStruct('KeyValue').required('KeyMaterial');
    }
  }
  return fields.item;
}

/** The PKCS#12 container of a Private Key structure whose Key Format Type is PKCS#12 (readObjectStructure). */
export function pkcs12Container(structure: TtlvItem): Uint8Array {
  const value = child(child(structure, T.KeyBlock), T.KeyValue);
  const bytes = value?.type === ItemType.Structure ? child(value, T.KeyMaterial) : value;
  if (bytes?.type !== ItemType.ByteString) {
    throw errors.invalidField(
      'a PKCS#12 Key Value is the container as a Byte String, or a Key Material that is one',
    );
  }
  return bytes.value;
}

/**
 * A value the server computed (Derive Key, Join Split Key) as Register would take it: a Raw Symmetric Key of the
 * algorithm given, its length the value's, or Opaque Secret Data of the type given. The structure holds `value`
 * itself, not a copy, so that the caller can zero it once the object is stored.
 */
export function computedValueStructure(
  objectType: 'SymmetricKey' | 'SecretData',
  value: Uint8Array,
  kind: { readonly algorithm: number } | { readonly secretDataType: number },
): StructureItem {
  const material = ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, value)]);
  if (objectType === 'SecretData') {
    return ttlv.structure(T.SecretData, [
      ttlv.enumeration(T.SecretDataType, 'secretDataType' in kind ? kind.secretDataType : 0),
      ttlv.structure(T.KeyBlock, [ttlv.enumeration(T.KeyFormatType, KeyFormat.Opaque), material]),
    ]);
  }
  return ttlv.structure(T.SymmetricKey, [
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, KeyFormat.Raw),
      material,
      ttlv.enumeration(T.CryptographicAlgorithm, 'algorithm' in kind ? kind.algorithm : 0),
      ttlv.integer(T.CryptographicLength, value.length * 8),
    ]),
  ]);
}

export function child(item: TtlvItem | undefined, t: number): TtlvItem | undefined {
  return item?.type === ItemType.Structure ? item.value.find((c) => c.tag === t) : undefined;
}

/** The Key Material of an object structure's Key Block (Key Block / Key Value / Key Material), if it has one. */
export function keyMaterialOf(structure: TtlvItem | undefined): TtlvItem | undefined {
  return child(child(child(structure, T.KeyBlock), T.KeyValue), T.KeyMaterial);
}

/** Attributes an object structure implies (KMIP 1.4 §2.1.3 Key Block, §3.4 Cryptographic Algorithm ...). */
export function impliedAttributes(structure: StructureItem): TtlvItem[] {
  const out: TtlvItem[] = [];
  const block = child(structure, T.KeyBlock);
  const algorithm = child(block, T.CryptographicAlgorithm);
  const length = child(block, T.CryptographicLength);
  if (algorithm) out.push(algorithm);
  if (length) out.push(length);
  // KMIP 2.0 made Key Format Type an attribute of keys (2.1 §4.26): the format the key was registered in.
  const format = child(block, T.KeyFormatType);
  if (format) out.push(format);
  // KMIP 1.4 §3.41: "Key Value Present SHALL be created by the server if the Key Value is absent from the Key
  // Block in a Register request".
  if (block !== undefined && child(block, T.KeyValue) === undefined)
    out.push(ttlv.boolean(T.KeyValuePresent, false));
  if (structure.tag === T.Certificate) {
    const type = child(structure, T.CertificateType);
    if (type) out.push(type);
    const value = child(structure, T.CertificateValue);
    if (value?.type === ItemType.ByteString) out.push(ttlv.integer(T.CertificateLength, value.value.length));
    if (value?.type === ItemType.ByteString) out.push(...certificateAttributes(value.value));
  }
  return out;
}

/** Seals (or, for public objects, keeps in clear) the object structure as registered. */
export async function materialForRegister(
  structure: StructureItem,
  objectType: number,
  owner: string,
  ctx: RequestContext,
): Promise<Material> {
  const bytes = encodeTtlv(structure);
  if (clearTypes.has(objectType)) return { kind: 'clear-object', bytes: Uint8Array.from(bytes) };
  try {
    return { kind: 'sealed-object', sealed: await ctx.keys.seal(owner, bytes, 'opaque') };
  } finally {
    bytes.fill(0);
  }
}

/** The object structure for a Get response, in the requested Key Format Type where one is asked for. */
export async function objectForGet(
  object: ManagedObject,
  objectType: number,
  ctx: RequestContext,
  requestedFormat: number | undefined,
): Promise<TtlvItem> {
  return (await readStructure(object, objectType, ctx, requestedFormat, false)).structure;
}

/**
 * objectForGet() for a client being served the object (Get, Export), with the material sealed again where the
 * token reads that form faster (KeyService.unsealToServe), for the caller to store (serving.ts markServed).
 * `unwrap`, when given, turns a key stored wrapped into its clear form before any Key Format Type conversion.
 */
export function objectToServe(
  object: ManagedObject,
  objectType: number,
  ctx: RequestContext,
  requestedFormat: number | undefined,
  unwrap?: (structure: TtlvItem) => Promise<TtlvItem>,
): Promise<{ readonly structure: TtlvItem; readonly resealed: Material | undefined }> {
  return readStructure(object, objectType, ctx, requestedFormat, true, unwrap);
}

async function readStructure(
  object: ManagedObject,
  objectType: number,
  ctx: RequestContext,
  requestedFormat: number | undefined,
  reseal: boolean,
  unwrap?: (structure: TtlvItem) => Promise<TtlvItem>,
): Promise<{ readonly structure: TtlvItem; readonly resealed: Material | undefined }> {
  const material = object.material;
  if (!material) throw errors.generalFailure(`object ${object.uid} has no key value`);
  let structure: TtlvItem;
  let resealed: Material | undefined;
  if (material.kind === 'clear-object') {
    structure = decodeTtlv(material.bytes);
  } else {
    const served = reseal
      ? await ctx.keys.unsealToServe(object.owner, material.sealed)
      : { plain: await ctx.keys.unseal(object.owner, material.sealed), resealed: undefined };
    const plain = served.plain;
    if (served.resealed) resealed = { kind: material.kind, sealed: served.resealed };
    try {
      structure =
        material.kind === 'sealed-object'
          ? decodeTtlv(plain)
          : generatedKeyStructure(objectType, material.sealed.format, Uint8Array.from(plain), object, ctx);
    } finally {
      plain.fill(0);
    }
  }
  if (unwrap) structure = await unwrap(structure);
  const format = requestedFormat ?? defaultFormat(object, ctx);
  return { structure: convertFormat(stripKeyValueAttributes(structure, ctx), format, ctx), resealed };
}

/**
 * The Key Format Type a Get without one serves: in 2.x the object's Key Format Type attribute (2.1 §4.26, "the
 * format of the key material"), so that a generated RSA private key comes as PKCS#1; 1.x has no such attribute and
 * gets the key as stored (PKCS#8 for a generated private key, which Barbican's plugin and PyKMIP at 1.x read).
 */
function defaultFormat(object: ManagedObject, ctx: RequestContext): number | undefined {
  if (!ctx.version.startsWith('2.')) return undefined;
  const format = single(object.attributes, 'KeyFormatType');
  return format?.type === ItemType.Enumeration ? format.value : undefined;
}

/** A Key Block around key bytes the token generated (Raw for secret keys, PKCS#8 for private keys). */
function generatedKeyStructure(
  objectType: number,
  format: string,
  key: Uint8Array,
  object: ManagedObject,
  ctx: RequestContext,
): TtlvItem {
  const structureT = structureTag(objectType, ctx);
  // One pass with a loop: this runs for every Get of a key, where flatMap and find over the attribute list were
  // 4-5% of the event loop's time.
  let algorithm: TtlvItem | undefined;
  let length: TtlvItem | undefined;
  for (const a of object.attributes) {
    if (a.kind !== 'standard') continue;
    if (a.value.tag === T.CryptographicAlgorithm) algorithm ??= a.value;
    else if (a.value.tag === T.CryptographicLength) length ??= a.value;
  }
  const blockLength =
    format === 'raw' ? ttlv.integer(T.CryptographicLength, secretBlockBits(algorithm, length, key)) : length;
  const attrs = [algorithm, blockLength].filter((item) => item !== undefined);
  const keyFormat = format === 'pkcs8' ? KeyFormat.PKCS_8 : KeyFormat.Raw;
  return ttlv.structure(structureT, [
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, keyFormat),
      ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, key)]),
      ...attrs,
    ]),
  ]);
}

/**
 * The Cryptographic Length a generated secret key's block states. A Triple DES key states the length it was made
 * with, 168 or 112 bits, over its 24 or 16 bytes with parity: the OASIS vectors show it so (SKFF-M-8 and -12 create
 * DES3 168 and Get answers Cryptographic Length 168 with 24 bytes of Key Material). PyKMIP's client refuses such a
 * block ("key length (168) not equal to key value length (192)"), so a client of that library asks for 192 (PyKMIP's
 * own server makes no 168-bit key at all). Every other secret key states the length of its bytes: a DES key asked for
 * as 56 bits is 8 bytes with parity, and PyKMIP and Barbican check Cryptographic Length against the Key Material.
 */
function secretBlockBits(
  algorithm: TtlvItem | undefined,
  length: TtlvItem | undefined,
  key: Uint8Array,
): number {
  const tripleDes = algorithm?.type === ItemType.Enumeration && algorithm.value === Algorithm.DES3;
  const effective = length?.type === ItemType.Integer && (length.value === 112 || length.value === 168);
  return tripleDes && effective ? length.value : key.length * 8;
}

/** KMIP 2.x Key Values hold only Key Material (1.x could carry attributes there, 1.4 §2.1.4). */
function stripKeyValueAttributes(structure: TtlvItem, ctx: RequestContext): TtlvItem {
  if (!ctx.version.startsWith('2.') || structure.type !== ItemType.Structure) return structure;
  return mapKeyBlock(structure, (block) =>
    block.map((c) =>
      c.tag === T.KeyValue && c.type === ItemType.Structure
        ? ttlv.structure(
            T.KeyValue,
            c.value.filter((k) => k.tag === T.KeyMaterial),
          )
        : c,
    ),
  );
}

function mapKeyBlock(
  structure: StructureItem,
  fn: (children: readonly TtlvItem[]) => TtlvItem[],
): StructureItem {
  return ttlv.structure(
    structure.tag,
    structure.value.map((c) =>
      c.tag === T.KeyBlock && c.type === ItemType.Structure ? ttlv.structure(T.KeyBlock, fn(c.value)) : c,
    ),
  );
}

/**
 * Converts the key in a Key Block to the requested Key Format Type (KMIP 1.4 §4.11 Get: "Key Format Type"):
 * Raw <-> Transparent Symmetric Key; RSA private PKCS#1 <-> PKCS#8; public PKCS#1 <-> X.509 SubjectPublicKeyInfo;
 * Transparent RSA Private Key -> PKCS#1 or PKCS#8, Transparent RSA Public Key -> PKCS#1 or X.509.
 */
function convertFormat(structure: TtlvItem, requested: number | undefined, ctx: RequestContext): TtlvItem {
  if (requested === undefined || structure.type !== ItemType.Structure) return structure;
  const block = child(structure, T.KeyBlock);
  const current = child(block, T.KeyFormatType);
  if (!block || current?.type !== ItemType.Enumeration) {
    throw errors.keyFormatTypeNotSupported('this object has no Key Block to convert');
  }
  if (current.value === requested) return structure;
  if (child(block, T.KeyWrappingData)) {
    throw errors.keyFormatTypeNotSupported('a wrapped key cannot be converted to another Key Format Type');
  }
  const material = child(child(block, T.KeyValue), T.KeyMaterial);
  const algorithm = child(block, T.CryptographicAlgorithm);
  const newMaterial = convertMaterial(structure.tag, current.value, requested, material, algorithm);
  if (!newMaterial) {
    const from = registryFor(ctx.version).enumName(T.KeyFormatType, current.value) ?? current.value;
    const to = registryFor(ctx.version).enumName(T.KeyFormatType, requested) ?? requested;
    throw errors.keyFormatTypeNotSupported(`cannot convert this key from ${String(from)} to ${String(to)}`);
  }
  return mapKeyBlock(structure, (children) =>
    children.map((c) => {
      if (c.tag === T.KeyFormatType) return ttlv.enumeration(T.KeyFormatType, requested);
      if (c.tag === T.KeyValue && c.type === ItemType.Structure) {
        return ttlv.structure(
          T.KeyValue,
          c.value.map((k) => (k.tag === T.KeyMaterial ? newMaterial : k)),
        );
      }
      return c;
    }),
  );
}

/** JWK's base64url of a non-negative integer, big-endian with no leading zero bytes (RFC 7518 §6.3). */
function jwkInteger(item: TtlvItem | undefined): string | undefined {
  if (item?.type !== ItemType.BigInteger || item.value < 0n) return undefined;
  const hex = item.value.toString(16);
  return Buffer.from(hex.length % 2 === 0 ? hex : `0${hex}`, 'hex').toString('base64url');
}

/**
 * A Transparent RSA Private or Public Key (KMIP 1.4 §2.1.7.5-6) as DER: PKCS#1 or PKCS#8 for a private key, PKCS#1
 * or X.509 for a public one. A private key needs its CRT fields (P, Q, the prime exponents, the CRT coefficient),
 * which node:crypto's RSA keys carry; one given by its modulus and exponents only is not converted.
 */
function fromTransparentRsa(objectTag: number, material: TtlvItem, to: number): TtlvItem | undefined {
  const field = (name: keyof typeof rsaFields): string | undefined =>
    jwkInteger(child(material, rsaFields[name]));
  const n = field('Modulus');
  const e = field('PublicExponent');
  if (n === undefined || e === undefined) return undefined;
  try {
    if (objectTag === T.PublicKey) {
      const type = to === KeyFormat.PKCS_1 ? 'pkcs1' : to === KeyFormat.X_509 ? 'spki' : undefined;
      if (type === undefined) return undefined;
      const key = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
      return ttlv.byteString(T.KeyMaterial, key.export({ format: 'der', type }));
    }
    const type = to === KeyFormat.PKCS_1 ? 'pkcs1' : to === KeyFormat.PKCS_8 ? 'pkcs8' : undefined;
    const [d, p, q, dp, dq, qi] = [
      field('PrivateExponent'),
      field('P'),
      field('Q'),
      field('PrimeExponentP'),
      field('PrimeExponentQ'),
      field('CRTCoefficient'),
    ];
    if (type === undefined || !d || !p || !q || !dp || !dq || !qi) return undefined;
    const key = createPrivateKey({ key: { kty: 'RSA', n, e, d, p, q, dp, dq, qi }, format: 'jwk' });
    return ttlv.byteString(T.KeyMaterial, key.export({ format: 'der', type }));
  } catch (error) {
    throw errors.keyFormatTypeNotSupported('the Transparent RSA key does not make an RSA key', error);
  }
}

const rsaFields = tags(
  'Modulus',
  'PrivateExponent',
  'PublicExponent',
  'P',
  'Q',
  'PrimeExponentP',
  'PrimeExponentQ',
  'CRTCoefficient',
);

function convertMaterial(
  objectTag: number,
  from: number,
  to: number,
  material: TtlvItem | undefined,
  algorithm: TtlvItem | undefined,
): TtlvItem | undefined {
  if (objectTag === T.SymmetricKey) {
    if (
      from === KeyFormat.Raw &&
      to === KeyFormat.TransparentSymmetricKey &&
      material?.type === ItemType.ByteString
    ) {
      return ttlv.structure(T.KeyMaterial, [ttlv.byteString(T.Key, material.value)]);
    }
    if (from === KeyFormat.TransparentSymmetricKey && to === KeyFormat.Raw) {
      const key = child(material, T.Key);
      return key?.type === ItemType.ByteString ? ttlv.byteString(T.KeyMaterial, key.value) : undefined;
    }
    return undefined;
  }
  if (
    (from === KeyFormat.TransparentRSAPrivateKey || from === KeyFormat.TransparentRSAPublicKey) &&
    material?.type === ItemType.Structure
  ) {
    return fromTransparentRsa(objectTag, material, to);
  }
  if (material?.type !== ItemType.ByteString) return undefined;
  const der = Buffer.from(material.value);
  const rsa = algorithm?.type === ItemType.Enumeration && algorithm.value === Algorithm.RSA;
  try {
    if (objectTag === T.PrivateKey) {
      // ECPrivateKey is RFC 5915's structure, which node:crypto calls SEC1.
      const derType = (format: number): 'pkcs1' | 'pkcs8' | 'sec1' | undefined =>
        format === KeyFormat.PKCS_1 && rsa
          ? 'pkcs1'
          : format === KeyFormat.PKCS_8
            ? 'pkcs8'
            : format === KeyFormat.ECPrivateKey && !rsa
              ? 'sec1'
              : undefined;
      const fromType = derType(from);
      const toType = derType(to);
      if (!fromType || !toType) return undefined;
      const key = createPrivateKey({ key: der, format: 'der', type: fromType });
      return ttlv.byteString(T.KeyMaterial, key.export({ format: 'der', type: toType }));
    }
    if (objectTag === T.PublicKey) {
      const fromType =
        from === KeyFormat.PKCS_1 && rsa ? 'pkcs1' : from === KeyFormat.X_509 ? 'spki' : undefined;
      const toType = to === KeyFormat.PKCS_1 && rsa ? 'pkcs1' : to === KeyFormat.X_509 ? 'spki' : undefined;
      if (!fromType || !toType) return undefined;
      const key = createPublicKey({ key: der, format: 'der', type: fromType });
      return ttlv.byteString(T.KeyMaterial, key.export({ format: 'der', type: toType }));
    }
  } catch (error) {
    throw errors.keyFormatTypeNotSupported(
      'the stored key could not be converted: it does not parse in its format',
      error,
    );
  }
  return undefined;
}
