import { ItemType, type StructureItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { Fields } from '../../kmip/fields.js';
import { enumValues } from '../../kmip/vocabulary.js';
import { handler, type RequestContext } from '../context.js';
import { joinPolynomial, joinXor, type SharePart } from '../crypto/secret-sharing.js';
import { errors } from '../errors.js';
import {
  enumAttribute,
  loadObject,
  ObjectType,
  objectTypeOf,
  single,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import { computedValueStructure, objectForGet } from '../object-payloads.js';
import { attributeContainer, clientAttributes } from '../template.js';
import { secretKeys } from './create.js';
import { SplitMethod } from './create-split-key.js';
import { storeStructure } from './register.js';

const SecretDataType = enumValues('SecretDataType', 'Seed');

interface JoinSplitKeyRequest {
  readonly objectType: number;
  readonly uids: readonly string[];
  readonly secretDataType: number | undefined;
  readonly attributes: Attribute[];
}

/** What a Split Key object says of the split it belongs to (KMIP 1.4 §2.2.5). */
interface SplitOf {
  readonly parts: number;
  readonly id: number;
  readonly threshold: number;
  readonly method: number;
  /** The part's Key Material. */
  readonly bytes: Uint8Array;
}

/**
 * Join Split Key (KMIP 1.4 §4.39, 2.1 §6.1.27): Split Key objects of one split, at least its Split Key Threshold of
 * them, combined into a Symmetric Key or Secret Data (crypto/secret-sharing.ts) and stored as Register stores an
 * object. Fewer parts than the threshold, or parts of different splits, is Cryptographic Failure, as TC-SJ expects.
 * The new object takes the request's algorithm and length, else the parts'.
 */
export const joinSplitKey = handler({
  operation: 'JoinSplitKey',
  since: '1.2',
  access: 'create',
  decodeRequest(payload, ctx): JoinSplitKeyRequest {
    if (!payload) throw errors.invalidField('Join Split Key needs a request payload');
    const objectType = payload.requiredEnumeration('ObjectType');
    if (objectType !== ObjectType.SymmetricKey && objectType !== ObjectType.SecretData) {
      throw errors.invalidField('Join Split Key forms a Symmetric Key or Secret Data');
    }
    return {
      objectType,
      uids: payload.texts('UniqueIdentifier'),
      secretDataType: payload.enumeration('SecretDataType'),
      attributes: clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx),
    };
  },
  async execute(request: JoinSplitKeyRequest, ctx) {
    if (request.uids.length === 0) throw errors.invalidField('Join Split Key needs the Split Keys to join');
    const objects: ManagedObject[] = [];
    for (const uid of request.uids) objects.push(await loadObject(uid, ctx));
    const splits = await Promise.all(objects.map((object) => splitOf(object, ctx)));
    const first = splits[0];
    if (first === undefined) throw errors.invalidField('Join Split Key needs the Split Keys to join');
    const sameSplit = splits.every(
      (s) => s.parts === first.parts && s.threshold === first.threshold && s.method === first.method,
    );
    const ids = new Set(splits.map((s) => s.id));
    const idsInRange = splits.every(
      (s) => Number.isInteger(s.id) && s.id >= 1 && s.id <= Math.min(s.parts, 255),
    );
    if (!sameSplit || ids.size !== splits.length || !idsInRange) {
      throw errors.cryptographicFailure('the Split Keys given are not distinct parts of one split');
    }
    // An XOR split needs every part, whatever Split Key Threshold a registered part claims (§2.2.5).
    const needed = first.method === SplitMethod.XOR ? first.parts : first.threshold;
    if (splits.length < needed) {
      throw errors.cryptographicFailure(
        `${String(splits.length)} part(s) given; this split needs ${String(needed)} to join`,
      );
    }
    const shares: SharePart[] = splits.map((split) => ({ id: split.id, bytes: split.bytes }));
    if (shares.some((share) => share.bytes.length !== shares[0]?.bytes.length)) {
      throw errors.cryptographicFailure('the Split Keys given differ in length');
    }
    const secret =
      first.method === SplitMethod.XOR ? joinXor(shares) : joinPolynomial(shares.slice(0, first.threshold));
    for (const share of shares) share.bytes.fill(0);
    try {
      return await storeStructure(
        request.objectType,
        request.attributes,
        joinedStructure(request, objects[0], secret),
        ctx,
      );
    } finally {
      secret.fill(0);
    }
  },
  encodeResponse: uidResponse,
});

async function splitOf(object: ManagedObject, ctx: RequestContext): Promise<SplitOf> {
  if (objectTypeOf(object) !== ObjectType.SplitKey) {
    throw errors.invalidField(`object ${object.uid} is not a Split Key`);
  }
  const structure = new Fields(
    await objectForGet(object, ObjectType.SplitKey, ctx, undefined),
    ctx.version,
    'Split Key',
  );
  const method = structure.requiredEnumeration('SplitKeyMethod');
  if (method !== SplitMethod.XOR && method !== SplitMethod.PolynomialSharingGF2_8) {
    throw errors.featureNotSupported(
      'Split Key Method: this server joins XOR and polynomial sharing GF(2^8) splits',
    );
  }
  // The part's bytes from the same read (one unseal per part), as materialBytes would give them.
  const present = single(object.attributes, 'KeyValuePresent');
  if (present?.type === ItemType.Boolean && !present.value) {
    throw errors.keyValueNotPresent(`object ${object.uid} was registered without its Key Value`);
  }
  const bytes = structure.struct('KeyBlock')?.struct('KeyValue')?.bytes('KeyMaterial');
  if (bytes === undefined) {
    throw errors.keyFormatTypeNotSupported(`object ${object.uid} holds no key bytes to join`);
  }
  return {
    parts: structure.requiredInteger('SplitKeyParts'),
    id: structure.requiredInteger('KeyPartIdentifier'),
    threshold: structure.requiredInteger('SplitKeyThreshold'),
    method,
    bytes,
  };
}

/** The joined value as Register would take it: a Raw symmetric key of the algorithm given or the parts', or Secret Data. */
function joinedStructure(
  request: JoinSplitKeyRequest,
  part: ManagedObject | undefined,
  value: Uint8Array,
): StructureItem {
  if (request.objectType === ObjectType.SecretData) {
    return computedValueStructure('SecretData', value, {
      secretDataType: request.secretDataType ?? SecretDataType.Seed,
    });
  }
  const algorithm =
    enumAttribute(request.attributes, 'CryptographicAlgorithm') ??
    (part === undefined ? undefined : enumAttribute(part.attributes, 'CryptographicAlgorithm'));
  const bits = value.length * 8;
  const length = single(request.attributes, 'CryptographicLength');
  const spec = algorithm === undefined ? undefined : secretKeys.get(algorithm);
  if (!spec?.lengths(bits) || (length?.type === ItemType.Integer && length.value !== bits)) {
    throw errors.invalidField(
      `the joined value is ${String(bits)} bits, which is not a key of the Cryptographic Algorithm and Length asked`,
    );
  }
  return computedValueStructure('SymmetricKey', value, { algorithm: algorithm ?? 0 });
}
