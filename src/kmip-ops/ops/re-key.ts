import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import { attributeKey, type Attribute } from '../../kmip/attributes.js';
import { registryFor } from '../../kmip/registry.js';
import { tags } from '../../kmip/vocabulary.js';
import type { Fields } from '../../kmip/fields.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import {
  dateState,
  enumAttribute,
  loadObject,
  newUid,
  nextRevisionPut,
  nowSeconds,
  ObjectType,
  objectTypeOf,
  resolveUid,
  serverAttributes,
  single,
  State,
  stateOf,
  toStored,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import { link, LinkType, linkTypeOf } from '../links.js';
import { KeyFormat } from '../object-payloads.js';
import { digestOf, generatedObjectAttributes } from '../server-attributes.js';
import { attributeContainer, clientAttributes, isMultiValued, isServerOnly } from '../template.js';
import { usageLimitsItem, usageLimitsOf } from '../usage-limits.js';
import { secretKeys } from './create.js';

const T = tags(
  'Link',
  'Name',
  'KeyFormatType',
  'CryptographicAlgorithm',
  'ActivationDate',
  'ProcessStartDate',
  'ProtectStopDate',
  'DeactivationDate',
  'UsageLimits',
  'RandomNumberGenerator',
  'LeaseTime',
  'Fresh',
);

/** The lifecycle dates a replacement takes over, or moves by the Offset (KMIP 1.4 Table 172). */
const dateTags = [T.ActivationDate, T.ProcessStartDate, T.ProtectStopDate, T.DeactivationDate];

/** What a Re-key or Re-key Key Pair request asks for beyond the key it names. */
export interface ReplacementRequest {
  /** KMIP 1.4 §4.4: "the difference between the Initialization Date and the Activation Date" of the new key. */
  readonly offset: number | undefined;
  readonly attributes: Attribute[];
}

/**
 * The Offset of a Re-key (Key Pair) request, refused beside dates the request also sets (KMIP 1.4 Tables 331 and
 * 332: "Offset field is not permitted to be specified at the same time as any of the Activation Date, Process
 * Start Date, Protect Stop Date, or Deactivation Date attributes", for a pair "the Activation Date or Deactivation
 * Date": Invalid Message).
 */
export function readOffset(
  payload: Fields | undefined,
  given: readonly Attribute[],
  dates: readonly number[] = dateTags,
): number | undefined {
  const offset = payload?.interval('Offset');
  if (offset === undefined) return undefined;
  const dated = dates.find((t) => given.some((a) => a.kind === 'standard' && a.value.tag === t));
  if (dated !== undefined) {
    const name = registryFor('2.1').tag(dated)?.name ?? 'a date';
    throw errors.invalidMessage(`an Offset and ${name} cannot both be given`);
  }
  return offset;
}

/**
 * The replacement's lifecycle dates (KMIP 1.4 §4.4 Table 172, 2.1 §6.1.46 Table 303): without an Offset, copied from
 * the existing key; with one, Activation Date = now + Offset and every other date moved by as much as the
 * Activation Date moved. An Offset with dates to move but no Activation Date to measure from is Illegal Operation
 * (1.4 Table 331).
 */
export function replacementDates(
  existing: readonly Attribute[],
  offset: number | undefined,
  now: bigint,
  moved: readonly number[] = dateTags,
): TtlvItem[] {
  const dateOf = (t: number): bigint | undefined => {
    const item = existing.find((a) => a.kind === 'standard' && a.value.tag === t)?.value;
    return item?.type === ItemType.DateTime ? item.value : undefined;
  };
  if (offset === undefined) {
    return moved.flatMap((t) => {
      const value = dateOf(t);
      return value === undefined ? [] : [ttlv.dateTime(t, value)];
    });
  }
  const activation = now + BigInt(offset);
  const before = dateOf(T.ActivationDate);
  const others = moved.filter((t) => t !== T.ActivationDate && dateOf(t) !== undefined);
  if (before === undefined && others.length > 0) {
    throw errors.illegalOperation(
      'an Offset cannot move the dates of a key that has no Activation Date to measure them from',
    );
  }
  const shift = activation - (before ?? activation);
  return [
    ttlv.dateTime(T.ActivationDate, activation),
    ...others.map((t) => ttlv.dateTime(t, (dateOf(t) ?? 0n) + shift)),
  ];
}

/**
 * The attributes a replacement key takes over from the existing one (KMIP 1.4 Tables 173 and 177, 2.1 Tables 304
 * and 306), before the request's own: everything but what the server sets anew (identifier, state, dates of its
 * life and of its compromise, Revocation Reason, Digest, Links, Random Number Generator, Original Creation Date,
 * Archive Date, Fresh ...) and the lifecycle dates and Usage Limits, which replacementDates and the caller derive.
 */
export function copiedAttributes(existing: readonly Attribute[]): Attribute[] {
  const notCopied = new Set([
    ...dateTags,
    T.Link,
    T.KeyFormatType,
    T.UsageLimits,
    T.RandomNumberGenerator,
    // A replacement is a new object, Fresh until served (2.1 §4.24; generatedObjectAttributes sets it).
    T.Fresh,
  ]);
  return existing.filter(
    (a) =>
      a.kind === 'custom' ||
      (!notCopied.has(a.value.tag) && (!isServerOnly(a) || a.value.tag === T.LeaseTime)),
  );
}

/**
 * The request's attributes over the copied ones: an attribute that may have several instances (Name, Object
 * Group, Link ...) is added, any other replaces the copied instance.
 */
export function withRequested(copied: readonly Attribute[], requested: readonly Attribute[]): Attribute[] {
  const replaced = new Set(requested.filter((a) => !isMultiValued(a)).map(attributeKey));
  return [...copied.filter((a) => !replaced.has(attributeKey(a))), ...requested];
}

/**
 * Usage Limits of a replacement: "The Total value is copied from the existing key", with all of it left. (The
 * tables go on "and the Count value in the existing key is set to the Total value"; refilling the key being
 * replaced would undo its limit, so this server reads it as the replacement's Count, as Table 177 of Re-key Key
 * Pair says: "the Byte Count/Object Count values are set to the Total".)
 */
export function replacementUsageLimits(existing: readonly Attribute[]): Attribute[] {
  const limits = usageLimitsOf(existing);
  return limits === undefined
    ? []
    : [{ kind: 'standard', value: usageLimitsItem({ ...limits, count: limits.total }) }];
}

/**
 * The existing key once replaced: its Names gone to the replacement, a Replacement Object Link to it (instead of
 * an earlier one), Last Change Date now; its next revision, for the caller's atomic commit with the replacement.
 */
export function replacedObject(existing: ManagedObject, replacementUid: string, ctx: RequestContext) {
  const kept = existing.attributes.filter(
    (a) =>
      !(a.kind === 'standard' && a.value.tag === T.Name) && linkTypeOf(a) !== LinkType.ReplacementObjectLink,
  );
  return nextRevisionPut(existing, [...kept, link(LinkType.ReplacementObjectLink, replacementUid)], ctx);
}

/** Refuses a key whose replacement makes no sense: one already destroyed. */
export function checkReplaceable(existing: ManagedObject): void {
  const state = stateOf(existing);
  if (state === State.Destroyed || state === State.DestroyedCompromised) {
    throw errors.permissionDenied(`object ${existing.uid} has been destroyed and cannot be re-keyed`);
  }
}

/** The token's algorithm and the length of the replacement, as Create checks them (create.ts). */
function generation(attributes: readonly Attribute[], ctx: RequestContext) {
  const algorithm = enumAttribute(attributes, 'CryptographicAlgorithm');
  const length = single(attributes, 'CryptographicLength');
  const spec = algorithm === undefined ? undefined : secretKeys.get(algorithm);
  const name =
    algorithm === undefined
      ? 'no'
      : (registryFor(ctx.version).enumName(T.CryptographicAlgorithm, algorithm) ?? String(algorithm));
  if (!spec) throw errors.featureNotSupported(`this server does not generate ${name} keys`);
  if (length?.type !== ItemType.Integer || !spec.lengths(length.value)) {
    throw errors.invalidField(`the replacement needs a valid Cryptographic Length for ${name}`);
  }
  return { hsm: spec.hsm, bits: length.value };
}

/**
 * Re-key (KMIP 1.4 §4.4, 2.1 §6.1.46): a replacement for a symmetric key, generated inside the token, with the
 * existing key's attributes (its Names moved over), the request's attributes on top, its dates copied or moved by
 * the Offset, and Links both ways (Replaced Object on the replacement, Replacement Object on the existing key).
 * Both objects are written in one atomic commit; the replacement becomes the ID placeholder.
 */
export const reKey = handler({
  operation: 'ReKey',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload, ctx): ReplacementRequest & { uid: string | undefined } {
    const attributes = clientAttributes(
      payload ? attributeContainer(payload, 'TemplateAttribute', 'Attributes') : undefined,
      ctx,
    );
    return { uid: payload?.text('UniqueIdentifier'), offset: readOffset(payload, attributes), attributes };
  },
  async execute(request: ReplacementRequest & { uid: string | undefined }, ctx) {
    const existing = await loadObject(resolveUid(request.uid, ctx), ctx);
    if (objectTypeOf(existing) !== ObjectType.SymmetricKey) {
      throw errors.notReKeyable(
        `object ${existing.uid} is not a symmetric key; Re-key replaces symmetric keys`,
      );
    }
    checkReplaceable(existing);
    const now = nowSeconds(ctx);
    const attributes = withRequested(
      [
        ...copiedAttributes(existing.attributes),
        ...replacementDates(existing.attributes, request.offset, now).map((value): Attribute => ({
          kind: 'standard',
          value,
        })),
        ...replacementUsageLimits(existing.attributes),
      ],
      request.attributes,
    );
    const { hsm, bits } = generation(attributes, ctx);
    const uid = newUid();
    const kek = await ctx.keys.kekFor(existing.owner);
    const { sha256, ...sealed } = await ctx.keys.hsm.generateSecretKey(kek, hsm, bits);
    const state = dateState(attributes, State.PreActive, now);
    const replacement: ManagedObject = {
      uid,
      revision: 1,
      owner: existing.owner,
      attributes: [
        ...serverAttributes(ctx, uid, ObjectType.SymmetricKey, state),
        ...attributes,
        link(LinkType.ReplacedObjectLink, existing.uid),
        digestOf(sha256, KeyFormat.Raw),
        { kind: 'standard', value: ttlv.enumeration(T.KeyFormatType, KeyFormat.Raw) },
        ...generatedObjectAttributes(request.attributes, ctx),
      ],
      material: { kind: 'sealed-key', sealed },
    };
    await ctx.store.commit({
      put: [{ object: toStored(replacement, 1), expectedRevision: 0 }, replacedObject(existing, uid, ctx)],
    });
    ctx.touched.push(uid);
    ctx.idPlaceholder.current = uid;
    return uid;
  },
  encodeResponse: uidResponse,
});
