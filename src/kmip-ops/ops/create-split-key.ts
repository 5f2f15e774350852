import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import { handler, type RequestContext } from '../context.js';
import { materialBytes } from '../crypto/key-ref.js';
import { splitPolynomial, splitXor, type SharePart } from '../crypto/secret-sharing.js';
import { errors } from '../errors.js';
import {
  enumAttribute,
  loadObject,
  newObjectPut,
  ObjectType,
  objectTypeOf,
  single,
} from '../managed-object.js';
import { refuseClearValue } from '../serving.js';
import { KeyFormat } from '../object-payloads.js';
import { attributeContainer, clientAttributes } from '../template.js';
import { secretKeys } from './create.js';
import { newStructureObject } from './register.js';

const T = tags(
  'UniqueIdentifier',
  'SplitKey',
  'SplitKeyParts',
  'KeyPartIdentifier',
  'SplitKeyThreshold',
  'SplitKeyMethod',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
  'CryptographicAlgorithm',
  'CryptographicLength',
);
export const SplitMethod = enumValues('SplitKeyMethod', 'XOR', 'PolynomialSharingGF2_8');
/** Attributes an existing key gives its parts itself. */
const keyOwn: ReadonlySet<number> = new Set([T.CryptographicAlgorithm, T.CryptographicLength]);

interface CreateSplitKeyRequest {
  readonly uid: string | undefined;
  readonly parts: number;
  readonly threshold: number;
  readonly method: number;
  readonly attributes: Attribute[];
}

/**
 * Create Split Key (KMIP 1.4 §4.38, 2.1 §6.1.10): a key split into Split Key Parts objects, any Split Key Threshold
 * of which join again (join-split-key.ts). The key is the one the request names, or new random bytes of the
 * template's algorithm and length from the token's generator; the split is XOR (every part needed) or polynomial
 * sharing over GF(2^8) (crypto/secret-sharing.ts), its coefficients from the token's generator. The parts are stored
 * as Register stores a Split Key, each sealed by the token; the ID placeholder is part 1 (§4.38).
 */
export const createSplitKey = handler({
  operation: 'CreateSplitKey',
  since: '1.2',
  access: 'create',
  decodeRequest(payload, ctx): CreateSplitKeyRequest {
    if (!payload) throw errors.invalidField('Create Split Key needs a request payload');
    if (payload.requiredEnumeration('ObjectType') !== ObjectType.SplitKey) {
      throw errors.invalidField('Create Split Key makes Split Key objects: Object Type must be Split Key');
    }
    const parts = payload.requiredInteger('SplitKeyParts');
    const threshold = payload.requiredInteger('SplitKeyThreshold');
    const method = payload.requiredEnumeration('SplitKeyMethod');
    if (method !== SplitMethod.XOR && method !== SplitMethod.PolynomialSharingGF2_8) {
      throw errors.featureNotSupported(
        'Split Key Method: this server splits by XOR and polynomial sharing GF(2^8)',
      );
    }
    if (!Number.isInteger(parts) || parts < 2 || parts > 255) {
      throw errors.invalidField('Split Key Parts must be 2 to 255');
    }
    if (threshold < 1 || threshold > parts || (method === SplitMethod.XOR && threshold !== parts)) {
      throw errors.invalidField(
        method === SplitMethod.XOR
          ? 'an XOR split needs every part: Split Key Threshold must equal Split Key Parts'
          : 'Split Key Threshold must be 1 to Split Key Parts',
      );
    }
    return {
      uid: payload.text('UniqueIdentifier'),
      parts,
      threshold,
      method,
      attributes: clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx),
    };
  },
  async execute(request: CreateSplitKeyRequest, ctx) {
    const { secret, algorithm, bits } = await keyToSplit(request, ctx);
    let shares: SharePart[] = [];
    try {
      const randomParts = request.method === SplitMethod.XOR ? request.parts - 1 : request.threshold - 1;
      const random = await ctx.keys.hsm.random(randomParts * secret.length);
      try {
        shares =
          request.method === SplitMethod.XOR
            ? splitXor(secret, request.parts, random)
            : splitPolynomial(secret, request.parts, request.threshold, random);
      } finally {
        random.fill(0);
      }
      // Of an existing key, the key's algorithm and length are the parts' (§4.38: "the attributes of the key take
      // precedence"), whatever the template says.
      const attributes =
        request.uid === undefined
          ? request.attributes
          : request.attributes.filter((a) => !(a.kind === 'standard' && keyOwn.has(a.value.tag)));
      const objects = [];
      for (const share of shares) {
        objects.push(
          await newStructureObject(
            ObjectType.SplitKey,
            attributes,
            part(request, share, algorithm, bits),
            ctx,
          ),
        );
      }
      // Every part in one commit: a failure stores none of them.
      await ctx.store.commit({
        put: objects.map(newObjectPut),
      });
      const uids = objects.map((o) => o.uid);
      ctx.touched.push(...uids);
      ctx.idPlaceholder.current = uids[0];
      return uids;
    } finally {
      secret.fill(0);
      for (const share of shares) share.bytes.fill(0);
    }
  },
  encodeResponse(uids: readonly string[]): TtlvItem[] {
    return uids.map((uid) => ttlv.textString(T.UniqueIdentifier, uid));
  },
});

/** The bytes to split, with the algorithm and length the parts carry. */
async function keyToSplit(
  request: CreateSplitKeyRequest,
  ctx: RequestContext,
): Promise<{ secret: Uint8Array; algorithm: number | undefined; bits: number | undefined }> {
  if (request.uid !== undefined) {
    const object = await loadObject(request.uid, ctx);
    const type = objectTypeOf(object);
    if (type !== ObjectType.SymmetricKey && type !== ObjectType.SecretData) {
      throw errors.invalidField(`object ${object.uid} is neither a Symmetric Key nor Secret Data`);
    }
    // The parts give the value back to whoever holds enough of them.
    refuseClearValue(object);
    const secret = await materialBytes(
      object,
      type === ObjectType.SymmetricKey ? KeyFormat.Raw : undefined,
      ctx,
    );
    const length = single(object.attributes, 'CryptographicLength');
    return {
      secret: Uint8Array.from(secret),
      algorithm: enumAttribute(object.attributes, 'CryptographicAlgorithm'),
      bits: length?.type === ItemType.Integer ? length.value : undefined,
    };
  }
  const algorithm = enumAttribute(request.attributes, 'CryptographicAlgorithm');
  const length = single(request.attributes, 'CryptographicLength');
  const spec = algorithm === undefined ? undefined : secretKeys.get(algorithm);
  if (length?.type !== ItemType.Integer || !spec?.lengths(length.value) || length.value % 8 !== 0) {
    throw errors.invalidField(
      'Create Split Key of a new key needs its Cryptographic Algorithm and a Cryptographic Length that algorithm has',
    );
  }
  return { secret: await ctx.keys.hsm.random(length.value / 8), algorithm, bits: length.value };
}

/** One part as a Split Key object structure (KMIP 1.4 §2.2.5). */
function part(
  request: CreateSplitKeyRequest,
  share: SharePart,
  algorithm: number | undefined,
  bits: number | undefined,
): StructureItem {
  return ttlv.structure(T.SplitKey, [
    ttlv.integer(T.SplitKeyParts, request.parts),
    ttlv.integer(T.KeyPartIdentifier, share.id),
    ttlv.integer(T.SplitKeyThreshold, request.threshold),
    ttlv.enumeration(T.SplitKeyMethod, request.method),
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, KeyFormat.Raw),
      ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, share.bytes)]),
      ...(algorithm === undefined ? [] : [ttlv.enumeration(T.CryptographicAlgorithm, algorithm)]),
      ...(bits === undefined ? [] : [ttlv.integer(T.CryptographicLength, bits)]),
    ]),
  ]);
}
