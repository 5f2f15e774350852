import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import {
  dateState,
  loadObject,
  newUid,
  nowSeconds,
  ObjectType,
  objectTypeOf,
  resolveUid,
  serverAttributes,
  single,
  State,
  toStored,
  type ManagedObject,
} from '../managed-object.js';
import { link, linkedUid, LinkType } from '../links.js';
import { generatedObjectAttributes } from '../server-attributes.js';
import {
  generatePair,
  pairSpec,
  readPairTemplates,
  withDefaults,
  type GeneratedHalf,
  type PairTemplates,
} from './create-key-pair.js';
import {
  checkReplaceable,
  copiedAttributes,
  readOffset,
  replacedObject,
  replacementDates,
  replacementUsageLimits,
  withRequested,
} from './re-key.js';

const T = tags(
  'PrivateKeyUniqueIdentifier',
  'PublicKeyUniqueIdentifier',
  'ActivationDate',
  'DeactivationDate',
);
/** The dates a pair's replacement takes over or moves (KMIP 1.4 Table 176, 2.1 Table 308). */
const pairDates = [T.ActivationDate, T.DeactivationDate];

interface PairRequest extends PairTemplates {
  readonly uid: string | undefined;
  readonly offset: number | undefined;
}

/**
 * One half of the replacement pair: the existing half's attributes (Names moved over), Activation and Deactivation
 * Dates copied or moved by the Offset (KMIP 1.4 Table 176, 2.1 Table 308: only these two), Usage Limits full, the request's
 * attributes on top (the half's own over the common ones, 1.4 §4.5 "order of precedence"), Links to the other new
 * half and to the half it replaces.
 */
function replacementHalf(
  existing: ManagedObject,
  objectType: number,
  uid: string,
  other: { readonly type: number; readonly uid: string },
  generated: GeneratedHalf,
  bits: number,
  requested: readonly Attribute[],
  request: PairRequest,
  ctx: RequestContext,
): ManagedObject {
  const now = nowSeconds(ctx);
  const dates = replacementDates(existing.attributes, request.offset, now, pairDates);
  const attributes = withDefaults(
    withRequested(
      [
        ...copiedAttributes(existing.attributes),
        ...dates.map((value): Attribute => ({ kind: 'standard', value })),
        ...replacementUsageLimits(existing.attributes),
      ],
      requested,
    ),
    bits,
    generated.mask,
  );
  return {
    uid,
    revision: 1,
    owner: existing.owner,
    attributes: [
      ...serverAttributes(ctx, uid, objectType, dateState(attributes, State.PreActive, now)),
      ...attributes,
      link(other.type, other.uid),
      link(LinkType.ReplacedObjectLink, existing.uid),
      ...generated.attributes,
      ...generatedObjectAttributes(requested, ctx),
    ],
    material: generated.material,
  };
}

/**
 * Re-key Key Pair (KMIP 1.4 §4.5, 2.1 §6.1.47): a replacement for an existing key pair, named by its private key,
 * generated inside the token with the same algorithm and size (Create Key Pair's generation, create-key-pair.ts).
 * Each new half takes over its predecessor's attributes as Re-key does (re-key.ts); each existing half loses its
 * Names and gets a Replacement Object Link to its successor. The four objects are written in one atomic commit;
 * the replacement private key becomes the ID placeholder. Refusals as 1.4 Table 332 and 2.1 Table 312 name them.
 */
export const reKeyKeyPair = handler({
  operation: 'ReKeyKeyPair',
  since: '1.1',
  access: 'manage',
  decodeRequest(payload, ctx): PairRequest {
    const templates = readPairTemplates(payload, ctx);
    const { common, privateOnly, publicOnly } = templates;
    return {
      uid: payload?.text('PrivateKeyUniqueIdentifier'),
      offset: readOffset(payload, [...common, ...privateOnly, ...publicOnly], pairDates),
      ...templates,
    };
  },
  async execute(request: PairRequest, ctx) {
    const existingPrivate = await loadObject(resolveUid(request.uid, ctx), ctx);
    if (objectTypeOf(existingPrivate) !== ObjectType.PrivateKey) {
      throw errors.notReKeyable(
        `object ${existingPrivate.uid} is not a private key; Re-key Key Pair is given the pair's private key`,
      );
    }
    checkReplaceable(existingPrivate);
    const publicUid = linkedUid(existingPrivate, LinkType.PublicKeyLink);
    if (publicUid === undefined) {
      throw errors.permissionDenied(
        `private key ${existingPrivate.uid} has no Public Key Link: there is no pair to re-key`,
      );
    }
    const existingPublic = await loadObject(publicUid, ctx);
    if (objectTypeOf(existingPublic) !== ObjectType.PublicKey) {
      throw errors.notReKeyable(`the Public Key Link of ${existingPrivate.uid} names no public key`);
    }
    checkReplaceable(existingPublic);
    const privateRequested = withRequested(request.common, request.privateOnly);
    const publicRequested = withRequested(request.common, request.publicOnly);
    const privateSource = withRequested(copiedAttributes(existingPrivate.attributes), privateRequested);
    const spec = pairSpec(privateSource, ctx);
    const pair = await generatePair(
      spec,
      single(privateSource, 'CryptographicAlgorithm'),
      existingPrivate.owner,
      ctx,
    );
    const newPrivateUid = newUid();
    const newPublicUid = newUid();
    const newPrivate = replacementHalf(
      existingPrivate,
      ObjectType.PrivateKey,
      newPrivateUid,
      { type: LinkType.PublicKeyLink, uid: newPublicUid },
      pair.privateKey,
      pair.bits,
      privateRequested,
      request,
      ctx,
    );
    const newPublic = replacementHalf(
      existingPublic,
      ObjectType.PublicKey,
      newPublicUid,
      { type: LinkType.PrivateKeyLink, uid: newPrivateUid },
      pair.publicKey,
      pair.bits,
      publicRequested,
      request,
      ctx,
    );
    await ctx.store.commit({
      put: [
        { object: toStored(newPrivate, 1), expectedRevision: 0 },
        { object: toStored(newPublic, 1), expectedRevision: 0 },
        replacedObject(existingPrivate, newPrivateUid, ctx),
        replacedObject(existingPublic, newPublicUid, ctx),
      ],
    });
    ctx.touched.push(newPrivateUid, newPublicUid);
    ctx.idPlaceholder.current = newPrivateUid;
    return { privateUid: newPrivateUid, publicUid: newPublicUid };
  },
  encodeResponse(response: { privateUid: string; publicUid: string }): TtlvItem[] {
    return [
      ttlv.textString(T.PrivateKeyUniqueIdentifier, response.privateUid),
      ttlv.textString(T.PublicKeyUniqueIdentifier, response.publicUid),
    ];
  },
});
