/**
 * Key wrapping on Get (KMIP 1.4 §2.1.5 Key Wrapping Data, §2.1.6 Key Wrapping Specification, §4.11 Get; 2.1 §2.1.5,
 * §7.18): the Key Value of the object served, wrapped inside the token by a key the client names.
 *
 * What is offered: Wrapping Method Encrypt, with an AES key (Block Cipher Mode NIST Key Wrap, RFC 3394, or AES Key
 * Wrap Padding, RFC 5649) or an RSA public key (the padding of its Cryptographic Parameters, OAEP or PKCS#1 v1.5);
 * Encoding Option TTLV (the default: the whole Key Value structure, with the attributes the client names) or No
 * Encoding (the Key Material bytes alone). MAC/sign methods and TR-31 are refused as not supported, never ignored.
 *
 * The wrapping key's Cryptographic Parameters follow §2.1.6: the request's must match one instance of the key's
 * Cryptographic Parameters attribute, and without them the key's first instance is used; a key with none, or with
 * none that matches, is Item Not Found (1.4 §11.12).
 */
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import { attributeName, encodeAttributes, standard } from '../kmip/attributes.js';
import { Fields } from '../kmip/fields.js';
import { enumName, enumValues, tags } from '../kmip/vocabulary.js';
import type { WrapMode } from '../hsm/hsm.js';
import type { RequestContext } from './context.js';
import {
  Algorithm,
  cipherPlan,
  cryptoParametersInstance,
  type CryptoParameters,
} from './crypto/parameters.js';
import { keyRefFor } from './crypto/key-ref.js';
import { checkKeyUse } from './crypto/permits.js';
import { errors, KmipError } from './errors.js';
import {
  loadObject,
  ObjectType,
  objectTypeOf,
  State,
  stateOf,
  type ManagedObject,
} from './managed-object.js';
import { child } from './object-payloads.js';

const T = tags(
  'KeyBlock',
  'KeyValue',
  'KeyMaterial',
  'KeyWrappingData',
  'WrappingMethod',
  'EncryptionKeyInformation',
  'MACSignatureKeyInformation',
  'UniqueIdentifier',
  'CryptographicParameters',
  'EncodingOption',
  'BlockCipherMode',
);
const Method = enumValues('WrappingMethod', 'Encrypt');
const Encoding = enumValues('EncodingOption', 'NoEncoding', 'TTLVEncoding');
const Mode = enumValues('BlockCipherMode', 'NISTKeyWrap', 'AESKeyWrapPadding');
const WrapUsage = enumValues('CryptographicUsageMask', 'WrapKey', 'UnwrapKey');

/** A Key Wrapping Specification as the request gives it. */
export interface KeyWrappingSpecification {
  readonly method: number;
  /** The Encryption Key Information structure as given, echoed in the answer's Key Wrapping Data. */
  readonly encryptionKey: TtlvItem | undefined;
  readonly encryptionKeyUid: string | undefined;
  readonly parameters: TtlvItem | undefined;
  readonly macSignatureKey: boolean;
  readonly attributeNames: readonly string[];
  readonly encoding: number | undefined;
}

export function readKeyWrappingSpecification(
  payload: Fields | undefined,
): KeyWrappingSpecification | undefined {
  const spec = payload?.struct('KeyWrappingSpecification');
  if (spec === undefined) return undefined;
  const encryptionKey = spec.struct('EncryptionKeyInformation');
  return {
    method: spec.requiredEnumeration('WrappingMethod'),
    encryptionKey: spec.optional('EncryptionKeyInformation'),
    encryptionKeyUid: encryptionKey?.requiredText('UniqueIdentifier'),
    parameters: encryptionKey?.optional('CryptographicParameters'),
    macSignatureKey: spec.optional('MACSignatureKeyInformation') !== undefined,
    attributeNames: spec.texts('AttributeName'),
    encoding: spec.enumeration('EncodingOption'),
  };
}

/**
 * The object structure with its Key Block's Key Value wrapped as `spec` asks, and the Key Wrapping Data that says
 * how. `object` is the object served, `structure` what Get would serve in clear; its bytes are zeroed here.
 */
export async function wrapServed(
  object: ManagedObject,
  structure: TtlvItem,
  spec: KeyWrappingSpecification,
  ctx: RequestContext,
): Promise<TtlvItem> {
  const methodName = enumName(ctx.version, T.WrappingMethod, spec.method);
  if (spec.method !== Method.Encrypt || spec.macSignatureKey) {
    throw errors.featureNotSupported(
      `Wrapping Method ${spec.macSignatureKey ? 'with MAC/Signature Key Information' : methodName} is not ` +
        'supported: this server wraps with Encrypt only',
    );
  }
  if (spec.encryptionKeyUid === undefined || spec.encryptionKey === undefined) {
    throw errors.invalidField('Wrapping Method Encrypt needs Encryption Key Information');
  }
  const noEncoding = spec.encoding === Encoding.NoEncoding;
  if (noEncoding && spec.attributeNames.length > 0) {
    throw errors.encodingOptionError(
      'Encoding Option No Encoding cannot carry the attributes the Key Wrapping Specification names',
    );
  }
  if (spec.encoding !== undefined && !noEncoding && spec.encoding !== Encoding.TTLVEncoding) {
    throw errors.encodingOptionError(
      `Encoding Option ${enumName(ctx.version, T.EncodingOption, spec.encoding)} is not supported`,
    );
  }
  const block = child(structure, T.KeyBlock);
  const keyValue = child(block, T.KeyValue);
  if (
    structure.type !== ItemType.Structure ||
    block?.type !== ItemType.Structure ||
    keyValue?.type !== ItemType.Structure
  ) {
    throw errors.illegalOperation(`object ${object.uid} has no Key Value to wrap`);
  }
  const wrappingKey = await loadWrappingKey(spec.encryptionKeyUid, ctx);
  const plain = plaintextOf(object, keyValue, spec, noEncoding, ctx);
  let wrapped: Uint8Array;
  try {
    wrapped = await wrapBytes(wrappingKey, spec.parameters, plain, ctx);
  } finally {
    plain.fill(0);
  }
  const wrappingData = ttlv.structure(T.KeyWrappingData, [
    ttlv.enumeration(T.WrappingMethod, spec.method),
    spec.encryptionKey,
    ...(spec.encoding === undefined ? [] : [ttlv.enumeration(T.EncodingOption, spec.encoding)]),
  ]);
  const wrappedBlock = ttlv.structure(T.KeyBlock, [
    ...block.value.map((item) => (item.tag === T.KeyValue ? ttlv.byteString(T.KeyValue, wrapped) : item)),
    wrappingData,
  ]);
  return ttlv.structure(
    structure.tag,
    structure.value.map((item) => (item.tag === T.KeyBlock ? wrappedBlock : item)),
  );
}

/** The bytes to wrap: the Key Material alone (No Encoding), or the TTLV Key Value with the named attributes. */
function plaintextOf(
  object: ManagedObject,
  keyValue: TtlvItem & { type: typeof ItemType.Structure },
  spec: KeyWrappingSpecification,
  noEncoding: boolean,
  ctx: RequestContext,
): Uint8Array {
  const material = child(keyValue, T.KeyMaterial);
  if (noEncoding) {
    if (material?.type !== ItemType.ByteString) {
      throw errors.encodingOptionError(
        `the Key Material of object ${object.uid} is a structure, which has no form without encoding`,
      );
    }
    return Uint8Array.from(material.value);
  }
  if (material === undefined) throw errors.illegalOperation(`object ${object.uid} has no Key Material`);
  const named = spec.attributeNames.map((name) => {
    const found = object.attributes.filter((a) => attributeName(a, ctx.version) === name);
    if (found.length === 0)
      throw errors.attributeNotFound(`object ${object.uid} has no attribute ${name} to wrap`);
    return found;
  });
  const attributes = named.length === 0 ? [] : encodeAttributes(named.flat(), ctx.version);
  return encodeTtlv(ttlv.structure(T.KeyValue, [material, ...attributes]));
}

/** The bytes wrapped by the wrapping key, inside the token. */
async function wrapBytes(
  key: ManagedObject,
  requested: TtlvItem | undefined,
  plain: Uint8Array,
  ctx: RequestContext,
): Promise<Uint8Array> {
  const type = objectTypeOf(key);
  if (type !== ObjectType.SymmetricKey && type !== ObjectType.PublicKey) {
    if (type === ObjectType.PrivateKey) {
      throw errors.permissionDenied(
        `object ${key.uid} is a Private Key, which cannot wrap: name its Public Key`,
      );
    }
    throw errors.illegalOperation(`object ${key.uid} is not a key that can wrap`);
  }
  checkKeyUse(key, { operation: 'Get with key wrapping', kind: 'protect', usage: WrapUsage.WrapKey }, ctx);
  const chosen = wrappingParameters(key, requested);
  const parameters = cryptoParametersInstance(
    new Fields(chosen, ctx.version, `wrapping key ${key.uid}'s Cryptographic Parameters`),
    key,
  );
  if (type === ObjectType.PublicKey) {
    const plan = cipherPlan(parameters);
    if (plan.kind !== 'rsa') throw errors.illegalOperation(`Public Key ${key.uid} is not an RSA key`);
    const result = await ctx.keys.hsm.encrypt(keyRefFor(key, 'asymmetric', ctx), plan.spec, plain);
    return result.data;
  }
  return ctx.keys.hsm.wrap(keyRefFor(key, 'cipher', ctx), aesWrapMode(key, parameters, ctx), plain);
}

/** The AES key wrap mode Cryptographic Parameters name (KMIP 1.4 §9.1.3.2.14 Block Cipher Mode). */
function aesWrapMode(key: ManagedObject, parameters: CryptoParameters, ctx: RequestContext): WrapMode {
  const mode: WrapMode | undefined =
    parameters.mode === Mode.NISTKeyWrap
      ? 'KW'
      : parameters.mode === Mode.AESKeyWrapPadding
        ? 'KWP'
        : undefined;
  if (mode === undefined) {
    throw errors.featureNotSupported(
      `Block Cipher Mode ${parameters.mode === undefined ? '(none)' : enumName(ctx.version, T.BlockCipherMode, parameters.mode)} ` +
        'is not offered for key wrapping: use NIST Key Wrap or AES Key Wrap Padding',
    );
  }
  if (parameters.algorithm !== Algorithm.AES) {
    throw errors.permissionDenied(
      `Symmetric Key ${key.uid} is not an AES key, so it cannot wrap with ${mode}`,
    );
  }
  return mode;
}

/**
 * The key a Key Wrapping Specification or a Key Wrapping Data names, with the 2.x reasons for one that does not
 * exist, is archived or has been destroyed (2.1 §11 Wrapping Object Not Found, Archived, Destroyed).
 */
async function loadWrappingKey(uid: string, ctx: RequestContext): Promise<ManagedObject> {
  let key: ManagedObject;
  try {
    key = await loadObject(uid, ctx);
  } catch (error) {
    if (error instanceof KmipError && error.reason === 'ObjectNotFound') {
      throw errors.wrappingObjectNotFound(`no wrapping key with Unique Identifier ${uid}`);
    }
    if (error instanceof KmipError && error.reason === 'ObjectArchived') {
      throw errors.wrappingObjectArchived(`wrapping key ${uid} is archived; Recover it first`);
    }
    throw error;
  }
  const state = stateOf(key);
  if (state === State.Destroyed || state === State.DestroyedCompromised) {
    throw errors.wrappingObjectDestroyed(`wrapping key ${uid} has been destroyed`);
  }
  return key;
}

/**
 * A key registered wrapped (its Key Block carries Key Wrapping Data, KMIP 1.4 §2.1.5), in clear: unwrapped inside
 * the token by the AES key its Key Wrapping Data names, as Key Wrap Type Not Wrapped asks (1.4 §4.11, §9.1.3.2.48),
 * or before it is wrapped again under another key; or one imported with Key Wrap Type Not Wrapped (2.1 §6.1.25:
 * "the server SHALL unwrap the object before storing it"). A structure that is not wrapped comes back as it is.
 *
 * The wrapped Key Value is a Byte String (1.4 §2.1.4); the 1.4 vectors TC-WRAP-2/3 register it as the Key Material
 * of a Key Value structure, which is taken too. The unwrapping key needs Unwrap Key in its usage mask (1.4
 * §9.1.3.3.1), Wrap Key is not enough: otherwise a key that may only wrap would serve, in clear, any Sensitive key
 * once wrapped under it by Get and registered back (TC-WRAP-2/3 name a key with Wrap Key alone; see the skip list).
 */
export async function unwrapStored(
  object: { readonly uid: string },
  structure: StructureItem,
  ctx: RequestContext,
): Promise<StructureItem>;
export async function unwrapStored(
  object: { readonly uid: string },
  structure: TtlvItem,
  ctx: RequestContext,
): Promise<TtlvItem>;
export async function unwrapStored(
  object: { readonly uid: string },
  structure: TtlvItem,
  ctx: RequestContext,
): Promise<TtlvItem> {
  const block = child(structure, T.KeyBlock);
  const wrappingData = child(block, T.KeyWrappingData);
  if (
    wrappingData === undefined ||
    structure.type !== ItemType.Structure ||
    block?.type !== ItemType.Structure
  ) {
    return structure;
  }
  const data = new Fields(wrappingData, ctx.version, `Key Wrapping Data of object ${object.uid}`);
  const method = data.requiredEnumeration('WrappingMethod');
  const keyInformation = data.struct('EncryptionKeyInformation');
  if (
    method !== Method.Encrypt ||
    keyInformation === undefined ||
    data.optional('MACSignatureKeyInformation') !== undefined
  ) {
    throw errors.featureNotSupported(
      `object ${object.uid} is stored wrapped by ${enumName(ctx.version, T.WrappingMethod, method)}` +
        `${data.optional('MACSignatureKeyInformation') === undefined ? '' : ' with MAC/Signature Key Information'}; ` +
        'this server unwraps only keys wrapped by Encrypt under an AES key',
    );
  }
  const kekUid = keyInformation.requiredText('UniqueIdentifier');
  const kek = await loadWrappingKey(kekUid, ctx);
  if (objectTypeOf(kek) !== ObjectType.SymmetricKey) {
    throw errors.featureNotSupported(
      `object ${object.uid} is wrapped under object ${kekUid}, which is not a symmetric key: this server unwraps ` +
        'under AES keys only',
    );
  }
  checkKeyUse(
    kek,
    {
      operation: `Unwrapping object ${object.uid}`,
      kind: 'process',
      usage: WrapUsage.UnwrapKey,
    },
    ctx,
  );
  const named = keyInformation.optional('CryptographicParameters') ?? wrappingParameters(kek, undefined);
  const parameters = cryptoParametersInstance(
    new Fields(named, ctx.version, `Key Wrapping Data of object ${object.uid}`),
    kek,
  );
  const keyValue = child(block, T.KeyValue);
  const material = keyValue?.type === ItemType.Structure ? child(keyValue, T.KeyMaterial) : keyValue;
  if (material?.type !== ItemType.ByteString) {
    throw errors.invalidField(
      `object ${object.uid} is stored wrapped, but its Key Value is not wrapped bytes`,
    );
  }
  const plain = await ctx.keys.hsm.unwrap(
    keyRefFor(kek, 'cipher', ctx),
    aesWrapMode(kek, parameters, ctx),
    material.value,
  );
  let clearValue: TtlvItem;
  try {
    clearValue =
      data.enumeration('EncodingOption') === Encoding.NoEncoding
        ? ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, Uint8Array.from(plain))])
        : keyValueOf(plain, object);
  } finally {
    // decodeTtlv copies what it reads (ttlv/decode.ts), so the unwrapped bytes can go.
    plain.fill(0);
  }
  const clearBlock = ttlv.structure(
    T.KeyBlock,
    block.value
      .filter((item) => item.tag !== T.KeyWrappingData)
      .map((item) => (item.tag === T.KeyValue ? clearValue : item)),
  );
  return ttlv.structure(
    structure.tag,
    structure.value.map((item) => (item.tag === T.KeyBlock ? clearBlock : item)),
  );
}

/** Unwrapped bytes of Encoding Option TTLV (the default, 1.4 §2.1.5): a whole Key Value structure. */
function keyValueOf(bytes: Uint8Array, object: { readonly uid: string }): TtlvItem {
  let item: TtlvItem;
  try {
    item = decodeTtlv(bytes);
  } catch {
    throw errors.cryptographicFailure(
      `object ${object.uid} unwraps to bytes that are not a TTLV Key Value (its Encoding Option is TTLV)`,
    );
  }
  if (item.tag !== T.KeyValue || item.type !== ItemType.Structure) {
    throw errors.cryptographicFailure(`object ${object.uid} unwraps to a TTLV item that is not a Key Value`);
  }
  return item;
}

/**
 * The wrapping key's Cryptographic Parameters instance to use (§2.1.6): the one the request's match (every field
 * the request gives equal in the instance), or the first when the request gives none.
 */
function wrappingParameters(key: ManagedObject, requested: TtlvItem | undefined): TtlvItem {
  const instances = standard(key.attributes, 'CryptographicParameters');
  const first = instances[0];
  if (first === undefined) {
    throw errors.itemNotFound(
      `wrapping key ${key.uid} has no Cryptographic Parameters attribute (KMIP 1.4 section 2.1.6 requires one: add one ` +
        'with the Block Cipher Mode to wrap with)',
    );
  }
  if (requested === undefined) return first;
  const match = instances.find((instance) => contains(instance, requested));
  if (match === undefined) {
    throw errors.itemNotFound(
      `the Cryptographic Parameters given match none of the ${String(instances.length)} instance(s) of wrapping ` +
        `key ${key.uid}'s Cryptographic Parameters attribute`,
    );
  }
  return match;
}

/** Whether every field of `part` is in `whole` with an equal value. */
function contains(whole: TtlvItem, part: TtlvItem): boolean {
  if (whole.type !== ItemType.Structure || part.type !== ItemType.Structure) return false;
  const bytes = (item: TtlvItem): string => Buffer.from(encodeTtlv(item)).toString('hex');
  const present = new Set(whole.value.map(bytes));
  return part.value.every((field) => present.has(bytes(field)));
}
