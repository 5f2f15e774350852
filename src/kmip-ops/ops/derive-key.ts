import { ItemType, ttlv, type StructureItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import type { Fields } from '../../kmip/fields.js';
import { enumName, enumValues, tags } from '../../kmip/vocabulary.js';
import type { HashName } from '../../hsm/hsm.js';
import { MAX_PBKDF2_ITERATIONS } from '../../hsm/key-specs.js';
import { handler, type RequestContext } from '../context.js';
import { keyRefFor, materialBytes } from '../crypto/key-ref.js';
import {
  cipherPlan,
  cryptoParameters,
  hmacHashOf,
  optionalHashing,
  requiredHashing,
} from '../crypto/parameters.js';
import { checkKeyUse } from '../crypto/permits.js';
import { errors } from '../errors.js';
import { link, LinkType } from '../links.js';
import {
  enumAttribute,
  loadObject,
  nowSeconds,
  ObjectType,
  objectTypeOf,
  single,
  nextRevisionPut,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import { attributeContainer, clientAttributes } from '../template.js';
import { computedValueStructure, KeyFormat } from '../object-payloads.js';
import { secretKeys } from './create.js';
import { storeStructure } from './register.js';

const T = tags(
  'SymmetricKey',
  'SecretData',
  'SecretDataType',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'DerivationMethod',
  'CryptographicUsageMask',
  'OriginalCreationDate',
);
const Method = enumValues('DerivationMethod', 'PBKDF2', 'HASH', 'HMAC', 'ENCRYPT', 'AsymmetricKey');
const Algorithm = enumValues('CryptographicAlgorithm', 'EC', 'ECDSA', 'ECDH');
const SecretDataType = enumValues('SecretDataType', 'Seed');
const DeriveUsage = enumValues('CryptographicUsageMask', 'DeriveKey');

interface DerivationParameters {
  readonly cryptographic: Fields | undefined;
  readonly iv: Uint8Array | undefined;
  readonly data: Uint8Array | undefined;
  readonly salt: Uint8Array | undefined;
  readonly iterations: number | undefined;
}

interface DeriveKeyRequest {
  readonly objectType: number;
  readonly uids: readonly string[];
  readonly method: number;
  readonly parameters: DerivationParameters;
  readonly attributes: Attribute[];
}

/**
 * Derive Key (KMIP 1.4 §4.6, 2.1 §6.1.12): a Symmetric Key or Secret Data derived from a key or Secret Data the
 * server holds, every computation inside the token, then stored as Register stores an object. Methods offered:
 * - HASH: the hash (Cryptographic Parameters' Hashing Algorithm) of the base object's value, followed by the
 *   Derivation Data when there is some (§4.6: "a hash over the derivation key or the derivation data");
 * - HMAC: the HMAC of the Derivation Data keyed with the base object, its hash from the request's Cryptographic
 *   Parameters, else from the base key's HMAC algorithm (§4.6: "the attributes of the derivation key provide enough
 *   information about the PRF");
 * - PBKDF2 (RFC 8018) with the base object as the password, HMAC-SHA-1 unless the parameters name another hash;
 * - ENCRYPT: the Derivation Data encrypted under the base key with the request's Cryptographic Parameters;
 * - Asymmetric Key: ECDH between the base EC private key and the peer public key a second identifier names.
 * The derived value is the leading Cryptographic Length bits of the output, which must be long enough. Derivation
 * Data may come from a second Unique Identifier naming Secret Data instead (never both). Links are written both
 * ways in one commit: Derived Key on the base object, Derivation Base Object on the new one; the new one becomes the
 * ID placeholder, which this operation never reads (§4.6).
 */
export const deriveKey = handler({
  operation: 'DeriveKey',
  since: '1.0',
  access: 'create',
  decodeRequest(payload, ctx): DeriveKeyRequest {
    if (!payload) throw errors.invalidField('Derive Key needs a request payload');
    const parameters = payload.requiredStruct('DerivationParameters');
    return {
      objectType: payload.requiredEnumeration('ObjectType'),
      uids: payload.texts('UniqueIdentifier'),
      method: payload.requiredEnumeration('DerivationMethod'),
      parameters: {
        cryptographic: parameters.struct('CryptographicParameters'),
        iv: parameters.bytes('InitializationVector'),
        data: parameters.bytes('DerivationData'),
        salt: parameters.bytes('Salt'),
        iterations: parameters.integer('IterationCount'),
      },
      attributes: clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx),
    };
  },
  async execute(request: DeriveKeyRequest, ctx) {
    const [baseUid, dataUid, ...more] = request.uids;
    if (baseUid === undefined)
      throw errors.invalidField('Derive Key needs the Unique Identifier of its base object');
    if (more.length > 0) {
      throw errors.featureNotSupported(
        'Derive Key takes a base object and at most one Secret Data object here',
      );
    }
    if (request.objectType !== ObjectType.SymmetricKey && request.objectType !== ObjectType.SecretData) {
      throw errors.invalidField('Derive Key derives a Symmetric Key or Secret Data');
    }
    const base = await loadObject(baseUid, ctx);
    const baseType = objectTypeOf(base);
    const agreement = request.method === Method.AsymmetricKey;
    if (
      agreement
        ? baseType !== ObjectType.PrivateKey
        : baseType !== ObjectType.SymmetricKey && baseType !== ObjectType.SecretData
    ) {
      throw errors.illegalOperation(
        agreement
          ? `object ${base.uid} is not a Private Key, which key agreement needs`
          : `object ${base.uid} is neither a Symmetric Key nor Secret Data`,
      );
    }
    checkKeyUse(base, { operation: 'Derive Key', kind: 'protect', usage: DeriveUsage.DeriveKey }, ctx);
    const length = derivedLength(request);
    const output = agreement
      ? await agreedSecret(request, base, dataUid, ctx)
      : await derive(request, base, await derivationData(request.parameters.data, dataUid, ctx), length, ctx);
    if (Number.isFinite(length) && output.length < length) {
      const given = output.length;
      output.fill(0);
      throw errors.invalidField(
        `this derivation gives ${String(given)} bytes, fewer than the ${String(length)} the Cryptographic Length asks`,
      );
    }
    try {
      return await storeStructure(
        request.objectType,
        derivedAttributes(request, base.uid),
        derivedStructure(request, output.subarray(0, length)),
        ctx,
        // KMIP 1.4 §3.43: mandatory on a derived object, set by the server to its Initial Date.
        [{ kind: 'standard', value: ttlv.dateTime(T.OriginalCreationDate, nowSeconds(ctx)) }],
        (uid) => [linkedBase(base, uid, ctx)],
      );
    } finally {
      // The value is sealed by then; the structure holds a view of these bytes, never a copy.
      output.fill(0);
    }
  },
  encodeResponse: uidResponse,
});

/** The Derivation Data, given in the request or as Secret Data named by a second identifier (§4.6: not both). */
async function derivationData(
  given: Uint8Array | undefined,
  secretUid: string | undefined,
  ctx: RequestContext,
): Promise<Uint8Array | undefined> {
  if (secretUid === undefined) return given;
  if (given !== undefined) {
    throw errors.invalidField('Derivation Data is given both in the parameters and as a Secret Data object');
  }
  const secret = await loadObject(secretUid, ctx);
  if (objectTypeOf(secret) !== ObjectType.SecretData) {
    throw errors.invalidField(`object ${secret.uid}, the second identifier, is not Secret Data`);
  }
  checkKeyUse(secret, { operation: 'Derive Key', kind: 'protect', usage: DeriveUsage.DeriveKey }, ctx);
  return materialBytes(secret, undefined, ctx);
}

/** The bytes to derive: Cryptographic Length, required for a key (§4.6), optional for Secret Data. */
function derivedLength(request: DeriveKeyRequest): number {
  const length = single(request.attributes, 'CryptographicLength');
  const algorithm = enumAttribute(request.attributes, 'CryptographicAlgorithm');
  if (request.objectType === ObjectType.SymmetricKey && (algorithm === undefined || length === undefined)) {
    throw errors.invalidField('Derive Key of a Symmetric Key needs its Cryptographic Algorithm and Length');
  }
  if (length === undefined) {
    if (request.method === Method.PBKDF2) {
      throw errors.invalidField('Derive Key with PBKDF2 needs the Cryptographic Length to derive');
    }
    return Number.POSITIVE_INFINITY;
  }
  if (length.type !== ItemType.Integer || length.value <= 0 || length.value % 8 !== 0) {
    throw errors.invalidField('the Cryptographic Length to derive must be a positive number of whole bytes');
  }
  // A symmetric key is one Create could make: AES of 128, 192 or 256 bits, DES, 3DES or HMAC (create.ts).
  if (request.objectType === ObjectType.SymmetricKey) {
    const spec = algorithm === undefined ? undefined : secretKeys.get(algorithm);
    if (!spec?.lengths(length.value)) {
      throw errors.invalidField(
        `a derived Symmetric Key is AES (128, 192 or 256 bits), DES, 3DES or HMAC of a length its algorithm has; ` +
          `${String(length.value)} bits is not one`,
      );
    }
  }
  return length.value / 8;
}

/**
 * The attributes the derived object is stored with: the request's, a Derivation Base Object link, and the usage mask
 * Create would give when the request has none (KMIP 1.4 Table 97: Cryptographic Usage Mask "SHALL always have a
 * value", implicitly set by Derive Key): the algorithm's for a key, Derive Key for Secret Data.
 */
function derivedAttributes(request: DeriveKeyRequest, baseUid: string): Attribute[] {
  const attributes = [...request.attributes, link(LinkType.DerivationBaseObjectLink, baseUid)];
  if (single(attributes, 'CryptographicUsageMask') === undefined) {
    const algorithm = enumAttribute(attributes, 'CryptographicAlgorithm');
    const mask =
      request.objectType === ObjectType.SecretData
        ? DeriveUsage.DeriveKey
        : ((algorithm === undefined ? undefined : secretKeys.get(algorithm)?.mask) ?? 0);
    attributes.push({ kind: 'standard', value: ttlv.integer(T.CryptographicUsageMask, mask) });
  }
  return attributes;
}

/** The method's output, at least `length` bytes (all of it for an unbounded length), computed in the token. */
async function derive(
  request: DeriveKeyRequest,
  base: ManagedObject,
  data: Uint8Array | undefined,
  length: number,
  ctx: RequestContext,
): Promise<Uint8Array> {
  const { parameters } = request;
  const hsm = ctx.keys.hsm;
  const hashing = (): number | undefined => parameters.cryptographic?.enumeration('HashingAlgorithm');
  let output: Uint8Array;
  switch (request.method) {
    case Method.HASH: {
      const hash = requiredHashing(hashing());
      const value = await materialBytes(base, undefined, ctx);
      const input = Buffer.concat([value, data ?? new Uint8Array(0)]);
      value.fill(0);
      try {
        output = await hsm.digest(hash, input);
      } finally {
        input.fill(0);
      }
      break;
    }
    case Method.HMAC: {
      if (data === undefined) throw errors.invalidField('Derive Key with HMAC needs Derivation Data');
      const hash = hmacHash(base, hashing());
      output = await hsm.mac(keyRefFor(base, 'hmac', ctx), { algorithm: 'HMAC', hash }, data);
      break;
    }
    case Method.PBKDF2: {
      if (parameters.salt === undefined || parameters.iterations === undefined) {
        throw errors.invalidField('Derive Key with PBKDF2 needs a Salt and an Iteration Count');
      }
      if (parameters.iterations < 1 || parameters.iterations > MAX_PBKDF2_ITERATIONS) {
        throw errors.invalidField(
          `Derive Key with PBKDF2 takes 1 to ${String(MAX_PBKDF2_ITERATIONS)} iterations here: each is a call ` +
            'to the token',
        );
      }
      const hash = optionalHashing(hashing()) ?? 'SHA-1';
      output = await hsm.pbkdf2(
        keyRefFor(base, 'hmac', ctx),
        hash,
        parameters.salt,
        parameters.iterations,
        length,
      );
      break;
    }
    case Method.ENCRYPT: {
      if (data === undefined) throw errors.invalidField('Derive Key with ENCRYPT needs Derivation Data');
      if (objectTypeOf(base) !== ObjectType.SymmetricKey) {
        throw errors.invalidField('Derive Key with ENCRYPT needs a Symmetric Key as its base');
      }
      const plan = cipherPlan(cryptoParameters(parameters.cryptographic, base, ctx));
      if (plan.kind !== 'block' || plan.mode === 'GCM') {
        throw errors.invalidField('Derive Key with ENCRYPT takes a block cipher in ECB or CBC mode');
      }
      // §4.6 Table 182: "empty IV is assumed if not provided", taken as all zero bytes for CBC.
      const iv = parameters.iv ?? new Uint8Array(plan.mode.startsWith('CBC') ? plan.ivBytes : 0);
      const spec = { algorithm: plan.algorithm, mode: plan.mode, ...(iv.length > 0 ? { iv } : {}) };
      output = (await hsm.encrypt(keyRefFor(base, 'cipher', ctx), spec, data)).data;
      break;
    }
    default:
      throw errors.featureNotSupported(
        `Derivation Method ${enumName(ctx.version, T.DerivationMethod, request.method)} is not offered: this ` +
          'server derives with PBKDF2, HASH, HMAC, ENCRYPT and Asymmetric Key (ECDH)',
      );
  }
  return output;
}

/**
 * Key agreement (Derivation Method Asymmetric Key, KMIP 1.4 §9.1.3.2.21; TC-DERIVEKEY-6): ECDH between the base
 * private key and the peer public key the second identifier names, inside the token; the shared secret's
 * x-coordinate is the derived value (SP 800-56A §5.7.1.2, no KDF), as the vectors expect.
 */
async function agreedSecret(
  request: DeriveKeyRequest,
  base: ManagedObject,
  peerUid: string | undefined,
  ctx: RequestContext,
): Promise<Uint8Array> {
  const algorithm = request.parameters.cryptographic?.enumeration('CryptographicAlgorithm');
  if (algorithm !== undefined && algorithm !== Algorithm.ECDH) {
    throw errors.featureNotSupported('key agreement is offered with Cryptographic Algorithm ECDH only');
  }
  const baseAlgorithm = enumAttribute(base.attributes, 'CryptographicAlgorithm');
  if (
    baseAlgorithm !== Algorithm.EC &&
    baseAlgorithm !== Algorithm.ECDSA &&
    baseAlgorithm !== Algorithm.ECDH
  ) {
    throw errors.invalidField(`object ${base.uid} is not an EC key, which ECDH needs`);
  }
  if (peerUid === undefined) {
    throw errors.invalidField('key agreement needs the peer public key as a second Unique Identifier');
  }
  const peer = await loadObject(peerUid, ctx);
  if (objectTypeOf(peer) !== ObjectType.PublicKey) {
    throw errors.invalidField(`object ${peer.uid}, the second identifier, is not a Public Key`);
  }
  checkKeyUse(peer, { operation: 'Derive Key', kind: 'protect', usage: DeriveUsage.DeriveKey }, ctx);
  const spki = await materialBytes(peer, KeyFormat.X_509, ctx);
  return ctx.keys.hsm.ecdh(keyRefFor(base, 'asymmetric', ctx), spki);
}

/** HMAC's hash: the request's Hashing Algorithm, else the base key's own HMAC algorithm. */
function hmacHash(base: ManagedObject, requested: number | undefined): HashName {
  const hash =
    optionalHashing(requested) ?? hmacHashOf(enumAttribute(base.attributes, 'CryptographicAlgorithm'));
  if (hash === undefined) {
    throw errors.invalidField(
      'Derive Key with HMAC needs a Hashing Algorithm in the Cryptographic Parameters, or an HMAC base key',
    );
  }
  return hash;
}

/** The derived object as Register would take it: a Raw symmetric key, or Secret Data of type Seed. */
function derivedStructure(request: DeriveKeyRequest, value: Uint8Array): StructureItem {
  return request.objectType === ObjectType.SecretData
    ? computedValueStructure('SecretData', value, { secretDataType: SecretDataType.Seed })
    : computedValueStructure('SymmetricKey', value, {
        algorithm: enumAttribute(request.attributes, 'CryptographicAlgorithm') ?? 0,
      });
}

/** The base object with a Derived Key link to the new object (§4.6), written in the new object's commit. */
function linkedBase(
  base: ManagedObject,
  derivedUid: string,
  ctx: RequestContext,
): ReturnType<typeof nextRevisionPut> {
  return nextRevisionPut(base, [...base.attributes, link(LinkType.DerivedKeyLink, derivedUid)], ctx);
}
