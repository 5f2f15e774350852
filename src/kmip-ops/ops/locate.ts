import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import { sameEncoding } from '../../ttlv/encode.js';
import { attributeKey, readAttributeContainer, type Attribute } from '../../kmip/attributes.js';
import { registryFor } from '../../kmip/registry.js';
import { enumValues, tags, versionHasTag } from '../../kmip/vocabulary.js';
import type { LocateQuery } from '../../store/store.js';
import { isServerOwned, visibleOwners } from '../access.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import {
  fromStored,
  instancesOf,
  scalarText,
  single,
  State,
  storedTypeName,
  stateOf,
  typeInVersion,
  type ManagedObject,
} from '../managed-object.js';

const T = tags(
  'ObjectType',
  'State',
  'Name',
  'NameValue',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'ObjectGroup',
  'UniqueIdentifier',
  'LocatedItems',
);
const StorageStatus = enumValues('StorageStatusMask', 'OnLineStorage', 'ArchivalStorage', 'DestroyedStorage');

interface LocateRequest {
  readonly attributes: Attribute[];
  readonly maximumItems: number | undefined;
  readonly offsetItems: number | undefined;
  /** Which storage to search (Storage Status Mask; on-line only when the request has none, KMIP 1.4 §4.9). */
  readonly online: boolean;
  readonly archival: boolean;
  /** Whether destroyed objects are searched too (2.x Destroyed Storage, or a State filter that names them). */
  readonly destroyed: boolean;
}

/**
 * Builds the store query from the filters the indexes hold; the rest are checked on each candidate (an attribute
 * matches when the object has an instance with the same value).
 */
function splitFilters(attributes: readonly Attribute[]): { query: LocateQuery; rest: Attribute[] } {
  const registry = registryFor('2.1');
  let query: LocateQuery = {};
  const rest: Attribute[] = [];
  const custom: [string, string][] = [];
  for (const a of attributes) {
    const v = a.value;
    if (a.kind === 'custom') {
      custom.push([a.name, scalarText(v)]);
    } else if (v.tag === T.ObjectType && v.type === ItemType.Enumeration && query.objectType === undefined) {
      query = { ...query, objectType: storedTypeName(v.value) };
    } else if (v.tag === T.State && v.type === ItemType.Enumeration && query.state === undefined) {
      query = { ...query, state: registry.enumName(T.State, v.value) ?? String(v.value) };
    } else if (v.tag === T.Name && v.type === ItemType.Structure && query.name === undefined) {
      const value = v.value.find((c) => c.tag === T.NameValue);
      if (value?.type === ItemType.TextString) query = { ...query, name: value.value };
      else rest.push(a);
    } else if (
      v.tag === T.CryptographicAlgorithm &&
      v.type === ItemType.Enumeration &&
      query.algorithm === undefined
    ) {
      query = { ...query, algorithm: String(v.value) };
    } else if (v.tag === T.CryptographicLength && v.type === ItemType.Integer && query.length === undefined) {
      query = { ...query, length: v.value };
    } else if (v.tag === T.ObjectGroup && v.type === ItemType.TextString && query.group === undefined) {
      query = { ...query, group: v.value };
    } else {
      rest.push(a);
    }
  }
  return { query: custom.length > 0 ? { ...query, custom } : query, rest };
}

/**
 * Whether an object lies in the storage the request searches: archived objects have an Archive Date (archive.ts);
 * destroyed ones are found only when asked for (2.1 §6.1.28: "The server SHALL NOT return unique identifiers for
 * objects that are destroyed unless the Storage Status Mask field includes the Destroyed Storage indicator"; the
 * 1.x profile vectors SKFF-M-5 to -7 expect a destroyed key not to be found either).
 */
function inSearchedStorage(object: ManagedObject, request: LocateRequest): boolean {
  const state = stateOf(object);
  if ((state === State.Destroyed || state === State.DestroyedCompromised) && !request.destroyed) return false;
  return single(object.attributes, 'ArchiveDate') === undefined ? request.online : request.archival;
}

/**
 * Whether the object matches the filters the indexes do not hold: an instance with the same value, or, for a
 * date attribute given twice, a value between the two (KMIP 1.4 §4.9: "if a date attribute is specified twice ...
 * the object's value SHALL lie within that range", inclusive).
 */
function matchesRest(object: ManagedObject, rest: readonly Attribute[]): boolean {
  const byKey = new Map<string, Attribute[]>();
  for (const filter of rest)
    byKey.set(attributeKey(filter), [...(byKey.get(attributeKey(filter)) ?? []), filter]);
  for (const [key, filters] of byKey) {
    const have = instancesOf(object.attributes, key);
    const [low, high] = filters;
    if (
      filters.length === 2 &&
      low?.value.type === ItemType.DateTime &&
      high?.value.type === ItemType.DateTime
    ) {
      const from = low.value.value < high.value.value ? low.value.value : high.value.value;
      const to = low.value.value < high.value.value ? high.value.value : low.value.value;
      if (
        !have.some((a) => a.value.type === ItemType.DateTime && a.value.value >= from && a.value.value <= to)
      ) {
        return false;
      }
      continue;
    }
    if (!filters.every((filter) => have.some((a) => sameEncoding(a.value, filter.value)))) return false;
  }
  return true;
}

async function find(
  request: LocateRequest,
  ctx: RequestContext,
): Promise<{ uids: string[]; total: number | undefined }> {
  const count = request.offsetItems !== undefined && versionHasTag(ctx.version, T.LocatedItems);
  if (!request.online && !request.archival) return { uids: [], total: count ? 0 : undefined };
  const owners = visibleOwners(ctx.principal, 'read-metadata');
  const { query, rest } = splitFilters(request.attributes);
  const offset = request.offsetItems ?? 0;
  const limit = request.maximumItems;
  // Newest first in every version: KMIP 2.0/2.1 §6.1.28 require it, 1.x leaves the order open, and the 1.4 test
  // cases (TC-OFFSET-1-14) expect the same order as the 2.0 ones.
  const base = { ...query, ...(owners ? { owners } : {}), newestFirst: true };
  // The matches the answer needs: every one to count them or when there is no Maximum Items, else up to the end
  // of the page. The indexes give the candidates; each is read for what they do not hold (the other filters, and
  // whether it is archived), up to that many.
  const end = limit === undefined ? undefined : offset + limit;
  const needed = count ? undefined : end;
  const matches: string[] = [];
  const examined = new Set<string>();
  const scan = async (candidates: readonly string[]): Promise<boolean> => {
    for (const uid of candidates) {
      if (needed !== undefined && matches.length >= needed) break;
      if (examined.has(uid)) continue;
      examined.add(uid);
      const stored = await ctx.store.get(uid);
      // An administrator's or auditor's Locate spans every owner, but never the server's own (access.ts); nor an
      // object of a type the request's version does not define (a 1.x Template at 2.x).
      if (!stored || isServerOwned(stored.owner) || !typeInVersion(stored.objectType, ctx.version)) continue;
      const object = fromStored(stored);
      const ok = inSearchedStorage(object, request) && matchesRest(object, rest);
      if (ok) matches.push(uid);
    }
    return needed !== undefined && matches.length >= needed;
  };
  // With the index filters alone, the page's end is asked of the store first; only when some of those candidates
  // are left out (archived ones, in a search of on-line storage) are the rest asked for.
  const pushDown = rest.length === 0 && needed !== undefined;
  const first = await ctx.store.locate(pushDown ? { ...base, limit: needed } : base);
  const done = await scan(first);
  if (!done && pushDown && first.length === needed) await scan(await ctx.store.locate(base));
  return { uids: matches.slice(offset, end), total: count ? matches.length : undefined };
}

/**
 * Locate (KMIP 1.4 §4.9, 2.1 §6.1.28): from the store's indexes, never a scan; only objects the caller may see,
 * newest first; Maximum Items and (1.3+) Offset Items. Located Items (1.3+), the count of every match, is answered
 * when the request has Offset Items: the field's description ties it to paging ("a server MAY elect to return the
 * Located Items value even if Offset Items is not present"), and the test cases expect it exactly then
 * (TC-OFFSET-1-14/-20 with Offset Items; SKFF-M-5, SASED-M-2 and TC-OFFSET's Maximum Items alone without).
 * One match becomes the ID placeholder, several empty it (§4.9). Archived objects are found only when the Storage
 * Status Mask asks for archival storage ("If omitted, then on-line only is assumed"; 2.1 §6.1.28: "The server SHALL
 * NOT return unique identifiers for objects that are archived unless the Storage Status Mask field includes the
 * Archived Storage indicator").
 */
export const locate = handler({
  operation: 'Locate',
  since: '1.0',
  access: 'read-metadata',
  decodeRequest(payload, ctx): LocateRequest {
    const attributes = payload
      ? ctx.version.startsWith('2.')
        ? payload.struct('Attributes')
          ? readAttributeContainer(payload.requiredStruct('Attributes'))
          : []
        : payload.structs('Attribute').length > 0
          ? readAttributeContainer(payload)
          : []
      : [];
    const mask = payload?.integer('StorageStatusMask');
    const maximumItems = payload?.integer('MaximumItems');
    const offsetItems = payload?.integer('OffsetItems');
    if ((maximumItems ?? 0) < 0 || (offsetItems ?? 0) < 0)
      throw errors.invalidField('Maximum Items and Offset Items must not be negative');
    return {
      attributes,
      maximumItems,
      offsetItems,
      online: mask === undefined || (mask & StorageStatus.OnLineStorage) !== 0,
      archival: mask !== undefined && (mask & StorageStatus.ArchivalStorage) !== 0,
      destroyed:
        (mask !== undefined && (mask & StorageStatus.DestroyedStorage) !== 0) ||
        attributes.some(
          (a) =>
            a.kind === 'standard' &&
            a.value.tag === T.State &&
            a.value.type === ItemType.Enumeration &&
            (a.value.value === State.Destroyed || a.value.value === State.DestroyedCompromised),
        ),
    };
  },
  async execute(request: LocateRequest, ctx) {
    const found = await find(request, ctx);
    ctx.idPlaceholder.current = found.uids.length === 1 ? found.uids[0] : undefined;
    return found;
  },
  encodeResponse(response: { uids: string[]; total: number | undefined }): TtlvItem[] {
    const out: TtlvItem[] = [];
    if (response.total !== undefined) out.push(ttlv.integer(T.LocatedItems, response.total));
    for (const uid of response.uids) out.push(ttlv.textString(T.UniqueIdentifier, uid));
    return out;
  },
});
