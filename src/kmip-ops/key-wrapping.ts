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
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import { attributeName, encodeAttributes, standard } from '../kmip/attributes.js';
import { Fields } from '../kmip/fields.js';
import { enumName, enumValues, tags } from '../kmip/vocabulary.js';
import type { WrapMode } from '../hsm/hsm.js';
import type { RequestContext } from './context.js';
import { Algorithm, cipherPlan, cryptoParametersInstance } from './crypto/parameters.js';
import { keyRefFor } from './crypto/key-ref.js';
import { checkKeyUse } from './crypto/permits.js';
import { errors } from './errors.js';
import { loadObject, ObjectType, objectTypeOf, type ManagedObject } from './managed-object.js';
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
const WrapUsage = enumValues('CryptographicUsageMask', 'WrapKey');

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
  const wrappingKey = await loadObject(spec.encryptionKeyUid, ctx);
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
  return ctx.keys.hsm.wrap(keyRefFor(key, 'cipher', ctx), mode, plain);
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
