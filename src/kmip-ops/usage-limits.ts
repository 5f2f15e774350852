/**
 * The Usage Limits attribute (KMIP 1.4 §3.21, 2.1 §4.59): how much protection a key may still apply.
 * - Usage Limits Total: the units allowed for the key's life; Usage Limits Count: the units left; Usage Limits
 *   Unit: Byte (bytes protected) or Object (objects protected: one per Encrypt, Sign or MAC).
 * - On creation the server sets Count to Total ("The server SHALL ignore the Usage Limits Count value if the
 *   attribute is specified in an operation that creates a new object"); a stored instance without Count (an object
 *   stored before this rule) is read as having its Total left.
 * - Get Usage Allocation (§4.18) takes units out of Count for a client that protects data itself with the key;
 *   the server's own protecting operations (Encrypt, Sign, MAC) draw the units they protect from Count at the time
 *   they run, and are refused when not enough are left. Only protection is limited ("Usage for processing
 *   cryptographically protected data (e.g., decryption, verification, etc.) is not limited").
 */
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import type { RequestContext } from './context.js';
import { errors, type KmipError } from './errors.js';
import { loadObject, saveObject, single, type ManagedObject } from './managed-object.js';
import { StoreError } from '../store/store.js';

const T = tags('UsageLimits', 'UsageLimitsTotal', 'UsageLimitsCount', 'UsageLimitsUnit');
export const UsageLimitsUnit = enumValues('UsageLimitsUnit', 'Byte', 'Object');

export interface UsageLimits {
  readonly total: bigint;
  /** The units left. */
  readonly count: bigint;
  readonly unit: number | undefined;
}

function field(item: TtlvItem, tag: number): TtlvItem | undefined {
  return item.type === ItemType.Structure ? item.value.find((c) => c.tag === tag) : undefined;
}

/** The object's Usage Limits, or undefined when it has none (its use is then not limited). */
export function usageLimitsOf(attributes: readonly Attribute[]): UsageLimits | undefined {
  const item = single(attributes, 'UsageLimits');
  if (item === undefined) return undefined;
  const total = field(item, T.UsageLimitsTotal);
  const count = field(item, T.UsageLimitsCount);
  const unit = field(item, T.UsageLimitsUnit);
  const totalValue = total?.type === ItemType.LongInteger ? total.value : 0n;
  return {
    total: totalValue,
    count: count?.type === ItemType.LongInteger ? count.value : totalValue,
    unit: unit?.type === ItemType.Enumeration ? unit.value : undefined,
  };
}

/** A Usage Limits attribute value. */
export function usageLimitsItem(limits: UsageLimits): TtlvItem {
  return ttlv.structure(T.UsageLimits, [
    ttlv.longInteger(T.UsageLimitsTotal, limits.total),
    ttlv.longInteger(T.UsageLimitsCount, limits.count),
    ...(limits.unit === undefined ? [] : [ttlv.enumeration(T.UsageLimitsUnit, limits.unit)]),
  ]);
}

/**
 * The attributes of a new object with its Usage Limits Count set to the Total, whatever Count the request gave
 * (KMIP 1.4 §3.21); unchanged when there is no Usage Limits.
 */
export function withFullUsageCount(attributes: readonly Attribute[]): Attribute[] {
  const limits = usageLimitsOf(attributes);
  if (limits === undefined) return [...attributes];
  return replaced(attributes, usageLimitsItem({ ...limits, count: limits.total }));
}

/** The attributes with the Usage Limits instance replaced in place (Get Attributes keeps its order). */
function replaced(attributes: readonly Attribute[], item: TtlvItem): Attribute[] {
  return attributes.map((a) =>
    a.kind === 'standard' && a.value.tag === T.UsageLimits ? { kind: 'standard', value: item } : a,
  );
}

/** The units one protecting operation on `bytes` bytes uses: the bytes, or one object. */
export function unitsFor(limits: UsageLimits, bytes: number): bigint {
  return limits.unit === UsageLimitsUnit.Object ? 1n : BigInt(bytes);
}

/** How often a Usage Limits allocation is tried again when another server changed the object meanwhile. */
const ALLOCATION_ATTEMPTS = 4;

/**
 * Takes units out of the Usage Limits Count of object `uid` and stores the object (one revision-checked write, so
 * two requests cannot both spend the last units), or throws `refusal` when fewer are left; `units` says how many
 * the operation needs under the limits as they are. Allocations on one object take turns in this server (a lock per
 * UID, KeyService.usageLocks) and read the object afresh in their turn, so concurrent requests (two Encrypts at
 * once) each take their units instead of failing on the revision check; a conflict can then only come from another
 * server sharing the store, and is tried again up to ALLOCATION_ATTEMPTS times. Answers the object as it now is
 * (unchanged when it has no Usage Limits or the operation needs no units).
 */
export async function allocateUsage(
  uid: string,
  units: (limits: UsageLimits) => bigint,
  ctx: RequestContext,
  refusal: (message: string) => KmipError,
): Promise<ManagedObject> {
  const release = await ctx.keys.usageLocks.acquire([uid]);
  try {
    for (let attempt = 1; ; attempt += 1) {
      // The object as it is now: another request may have taken units while this one waited for its turn.
      const current = await loadObject(uid, ctx);
      const left = usageLimitsOf(current.attributes);
      if (left === undefined) return current;
      const needed = units(left);
      if (needed === 0n) return current;
      if (needed > left.count) {
        throw refusal(
          `object ${uid} has ${left.count} Usage Limits units left, fewer than the ${needed} this needs`,
        );
      }
      const next = usageLimitsItem({ ...left, count: left.count - needed });
      try {
        return await saveObject(current, replaced(current.attributes, next), ctx);
      } catch (error) {
        if (!(error instanceof StoreError && error.code === 'conflict') || attempt >= ALLOCATION_ATTEMPTS)
          throw error;
      }
    }
  } finally {
    release();
  }
}

function isUsageLimits(attribute: Attribute): boolean {
  return attribute.kind === 'standard' && attribute.value.tag === T.UsageLimits;
}

/** Refuses a change to Usage Limits once units have been taken from them. */
function checkUnused(object: ManagedObject): void {
  const current = usageLimitsOf(object.attributes);
  if (current !== undefined && current.count !== current.total) {
    throw errors.attributeReadOnly(
      `units of the Usage Limits of object ${object.uid} have been used: its Usage Limits can no longer change`,
    );
  }
}

/**
 * Usage Limits as a client sets it on an existing object with Add, Modify or Set Attribute (KMIP 1.4 §3.21 Table
 * 102: "Modifiable by client: Yes (Total and/or Unit only, as long as Get Usage Allocation has not been
 * performed)"; "The Usage Limits Count value SHALL NOT be set or modified by the client"): the Count becomes the new
 * Total, and the change is refused once units have been used (by Get Usage Allocation or by the server's own
 * protecting operations). Any other attribute is returned as it is.
 */
export function clientUsageLimits(attribute: Attribute, object: ManagedObject): Attribute {
  if (!isUsageLimits(attribute)) return attribute;
  checkUnused(object);
  const given = usageLimitsOf([attribute]);
  return given === undefined
    ? attribute
    : { kind: 'standard', value: usageLimitsItem({ ...given, count: given.total }) };
}

/** Delete Attribute of Usage Limits: "Deletable by client: Yes, as long as Get Usage Allocation has not been performed". */
export function checkUsageLimitsDeletable(attribute: Attribute, object: ManagedObject): void {
  if (isUsageLimits(attribute)) checkUnused(object);
}
