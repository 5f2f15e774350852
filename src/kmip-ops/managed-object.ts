import { createHash, randomUUID } from 'node:crypto';
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import {
  attributeKey,
  deserializeAttributes,
  firstStandard,
  serializeAttributes,
  standard,
  type Attribute,
} from '../kmip/attributes.js';
import { registryFor, type KmipVersion } from '../kmip/registry.js';
import { enumValues, tag, tags } from '../kmip/vocabulary.js';
import type { SealedSecret } from '../hsm/hsm.js';
import type { Fields } from '../kmip/fields.js';
import type { LocateIndex, StoreChange, StoredObject } from '../store/store.js';
import type { RequestContext } from './context.js';
import { objectAccess } from './access.js';
import { errors } from './errors.js';
import { rightsAllow } from './tickets.js';
import { storageMaskAttribute } from './protection-storage.js';

/**
 * A managed object as the operations see it: its attributes (the one source of truth for Object Type, State,
 * Name, ...) and its material, sealed by the token or, for public keys and certificates, in clear.
 */
export interface ManagedObject {
  readonly uid: string;
  readonly revision: number;
  readonly owner: string;
  readonly attributes: readonly Attribute[];
  readonly material: Material | undefined;
}

/**
 * - `sealed-object`: the object structure as registered (SymmetricKey { KeyBlock ... } etc.), TTLV-encoded, sealed,
 *   so that Get gives back exactly what was registered;
 * - `sealed-key`: key bytes generated in the token (raw, or PKCS#8 for private keys);
 * - `clear-object`: the object structure of a public key or certificate, TTLV-encoded, in clear.
 */
export type Material =
  | { readonly kind: 'sealed-object'; readonly sealed: SealedSecret }
  | { readonly kind: 'sealed-key'; readonly sealed: SealedSecret }
  | { readonly kind: 'clear-object'; readonly bytes: Uint8Array };

export const ObjectType = enumValues(
  'ObjectType',
  'Certificate',
  'SymmetricKey',
  'PublicKey',
  'PrivateKey',
  'SplitKey',
  'SecretData',
  'OpaqueObject',
  'PGPKey',
  'Template',
);
export const State = enumValues(
  'State',
  'PreActive',
  'Active',
  'Deactivated',
  'Compromised',
  'Destroyed',
  'DestroyedCompromised',
);

const T = tags(
  'UniqueIdentifier',
  'ShortUniqueIdentifier',
  'ObjectType',
  'State',
  'NameValue',
  'InitialDate',
  'LastChangeDate',
);

/** The one value of a single-valued standard attribute. */
export function single(attributes: readonly Attribute[], tagName: string): TtlvItem | undefined {
  return firstStandard(attributes, tagName);
}

export function enumAttribute(attributes: readonly Attribute[], tagName: string): number | undefined {
  const item = single(attributes, tagName);
  return item?.type === ItemType.Enumeration ? item.value : undefined;
}

export function objectTypeOf(object: ManagedObject): number {
  return enumAttribute(object.attributes, 'ObjectType') ?? 0;
}

export function stateOf(object: ManagedObject): number {
  return enumAttribute(object.attributes, 'State') ?? 0;
}

/** Replaces every instance of a standard attribute with the given value (or removes it when undefined). */
export function withAttribute(
  attributes: readonly Attribute[],
  value: TtlvItem | undefined,
  tagValue?: number,
): Attribute[] {
  const t = value?.tag ?? tagValue;
  const rest = attributes.filter((a) => !(a.kind === 'standard' && a.value.tag === t));
  return value ? [...rest, { kind: 'standard', value }] : rest;
}

export function nowSeconds(ctx: RequestContext): bigint {
  return BigInt(Math.floor(ctx.now().getTime() / 1000));
}

/**
 * The attributes the server sets on every new object (KMIP 1.4 §3.1, §3.5, §3.22, §3.23, §3.38), and the Short
 * Unique Identifier of KMIP 2.x (2.1 §4.56: "SHALL be assigned ... upon creation or registration", "SHOULD be
 * generated as a SHA-256 hash of the Unique Identifier and SHALL be a 32 byte byte string"), and its Protection
 * Storage Mask (2.1 §4.44: "SHALL always have a value", set by the server "when object is stored"): where the token
 * keeps the object's material, Software or Hardware (§12.2). 1.x never sees those two.
 */
export function serverAttributes(
  ctx: RequestContext,
  uid: string,
  objectType: number,
  state: number,
): Attribute[] {
  const now = nowSeconds(ctx);
  return [
    { kind: 'standard', value: ttlv.textString(T.UniqueIdentifier, uid) },
    {
      kind: 'standard',
      value: ttlv.byteString(T.ShortUniqueIdentifier, createHash('sha256').update(uid).digest()),
    },
    { kind: 'standard', value: ttlv.enumeration(T.ObjectType, objectType) },
    { kind: 'standard', value: ttlv.enumeration(T.State, state) },
    { kind: 'standard', value: ttlv.dateTime(T.InitialDate, now) },
    { kind: 'standard', value: ttlv.dateTime(T.LastChangeDate, now) },
    { kind: 'standard', value: storageMaskAttribute(ctx) },
  ];
}

export function newUid(): string {
  return randomUUID();
}

/** Values Locate filters on, from the attributes. */
export function locateIndexOf(attributes: readonly Attribute[]): LocateIndex {
  const names = standard(attributes, 'Name').flatMap((name) =>
    name.type === ItemType.Structure
      ? name.value.flatMap((c) => (c.tag === T.NameValue && c.type === ItemType.TextString ? [c.value] : []))
      : [],
  );
  const algorithm = enumAttribute(attributes, 'CryptographicAlgorithm');
  const length = single(attributes, 'CryptographicLength');
  const groups = standard(attributes, 'ObjectGroup').flatMap((g) =>
    g.type === ItemType.TextString ? [g.value] : [],
  );
  const custom = attributes.flatMap((a): [string, string][] =>
    a.kind === 'custom' ? [[a.name, scalarText(a.value)]] : [],
  );
  return {
    names,
    groups,
    custom,
    ...(algorithm === undefined ? {} : { algorithm: String(algorithm) }),
    ...(length?.type === ItemType.Integer ? { length: length.value } : {}),
  };
}

/** A comparable text form of a scalar attribute value, for the custom-attribute index. */
export function scalarText(item: TtlvItem): string {
  switch (item.type) {
    case ItemType.Structure:
      return `struct:${Buffer.from(serializeAttributes([{ kind: 'standard', value: item }])).toString('hex')}`;
    case ItemType.ByteString:
      return `bytes:${Buffer.from(item.value).toString('hex')}`;
    case ItemType.TextString:
      return item.value;
    case ItemType.Integer:
    case ItemType.LongInteger:
    case ItemType.BigInteger:
    case ItemType.Enumeration:
    case ItemType.Boolean:
    case ItemType.DateTime:
    case ItemType.Interval:
    case ItemType.DateTimeExtended:
      return String(item.value);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Store records

interface MaterialRecord {
  v: 1;
  kind: Material['kind'];
  kek?: string;
  format?: SealedSecret['format'];
  blob: string;
}

function serializeMaterial(material: Material): Uint8Array {
  const record: MaterialRecord =
    material.kind === 'clear-object'
      ? { v: 1, kind: material.kind, blob: Buffer.from(material.bytes).toString('base64') }
      : {
          v: 1,
          kind: material.kind,
          kek: material.sealed.kekId,
          format: material.sealed.format,
          blob: Buffer.from(material.sealed.blob).toString('base64'),
        };
  return Buffer.from(JSON.stringify(record));
}

function parseMaterial(bytes: Uint8Array): Material {
  const record = JSON.parse(Buffer.from(bytes).toString('utf8')) as MaterialRecord;
  const blob = Buffer.from(record.blob, 'base64');
  if (record.kind === 'clear-object') return { kind: 'clear-object', bytes: blob };
  return { kind: record.kind, sealed: { kekId: record.kek ?? '', format: record.format ?? 'opaque', blob } };
}

/**
 * The Object Type name the store indexes an object under (and Locate asks for): the newest version's name, and a
 * 1.x Template's 1.4 name, since 2.x no longer names that type.
 */
export function storedTypeName(value: number): string {
  return (
    registryFor('2.1').enumName(T.ObjectType, value) ??
    registryFor('1.4').enumName(T.ObjectType, value) ??
    'Unknown'
  );
}

/**
 * Whether a request's version defines the type an object is stored under. A 1.x Template does not exist for a 2.x
 * request: loadObject answers it as no object, and Locate leaves it out, since a response carries no type or tag
 * its version does not define (DESIGN.md "Versions").
 */
export function typeInVersion(storedType: string, version: KmipVersion): boolean {
  return registryFor(version).enumValue(T.ObjectType, storedType) !== undefined;
}

export function toStored(object: ManagedObject, revision: number): StoredObject {
  const registry = registryFor('2.1');
  const typeName = storedTypeName(enumAttribute(object.attributes, 'ObjectType') ?? 0);
  const stateName = registry.enumName(T.State, enumAttribute(object.attributes, 'State') ?? 0) ?? 'Unknown';
  return {
    uid: object.uid,
    revision,
    owner: object.owner,
    objectType: typeName,
    state: stateName,
    index: locateIndexOf(object.attributes),
    attributes: serializeAttributes(object.attributes),
    ...(object.material ? { material: serializeMaterial(object.material) } : {}),
  };
}

/**
 * The object a stored record holds. Parsing it (a TTLV decode of every attribute and a JSON parse of the material)
 * is the largest share of a Get's own work after the token's, so the last objects parsed are kept, each with the
 * record it came from: an entry serves only a record equal to that one in revision, owner and every byte, so it
 * never needs invalidating (a changed object has a new revision and new bytes). What is kept is frozen, since every
 * caller then shares it: code that changed a loaded object in place instead of copying it would fail loudly here.
 */
export function fromStored(stored: StoredObject): ManagedObject {
  const kept = parsedObjects.get(stored.uid);
  if (kept !== undefined && sameRecord(kept.stored, stored)) {
    // Least recently used first: move the hit to the end of the Map's insertion order.
    parsedObjects.delete(stored.uid);
    parsedObjects.set(stored.uid, kept);
    return kept.object;
  }
  const object = frozenObject({
    uid: stored.uid,
    revision: stored.revision,
    owner: stored.owner,
    attributes: deserializeAttributes(stored.attributes),
    material: stored.material ? parseMaterial(stored.material) : undefined,
  });
  // The record's own copies of the bytes, since the caller's may be zeroed after this call (new Uint8Array, not
  // slice(): a Buffer's slice() is a view of the same memory).
  parsedObjects.set(stored.uid, {
    stored: {
      ...stored,
      attributes: new Uint8Array(stored.attributes),
      ...(stored.material === undefined ? {} : { material: new Uint8Array(stored.material) }),
    },
    object,
  });
  if (parsedObjects.size > PARSED_OBJECTS) {
    const oldest = parsedObjects.keys().next().value;
    if (oldest !== undefined) parsedObjects.delete(oldest);
  }
  return object;
}

/** How many parsed objects fromStored keeps (a few MB at most: records are a few hundred bytes to a few KB). */
const PARSED_OBJECTS = 4096;
const parsedObjects = new Map<string, { readonly stored: StoredObject; readonly object: ManagedObject }>();

function sameRecord(a: StoredObject, b: StoredObject): boolean {
  return (
    a.revision === b.revision &&
    a.owner === b.owner &&
    sameBytes(a.attributes, b.attributes) &&
    (a.material === undefined
      ? b.material === undefined
      : b.material !== undefined && sameBytes(a.material, b.material))
  );
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

/** Freezes an object's attribute items and material record (byte arrays cannot be frozen and are left as they are). */
function frozenObject(object: ManagedObject): ManagedObject {
  for (const attribute of object.attributes) {
    frozenItem(attribute.value);
    Object.freeze(attribute);
  }
  Object.freeze(object.attributes);
  if (object.material !== undefined) {
    if (object.material.kind !== 'clear-object') Object.freeze(object.material.sealed);
    Object.freeze(object.material);
  }
  return Object.freeze(object);
}

function frozenItem(item: TtlvItem): void {
  if (item.type === ItemType.Structure) {
    for (const child of item.value) frozenItem(child);
    Object.freeze(item.value);
  }
  Object.freeze(item);
}

/** The Unique Identifier a request names, or the ID placeholder (KMIP 1.4 §3.1 "ID Placeholder"). */
export function resolveUid(uid: string | undefined, ctx: RequestContext): string {
  const resolved = uid ?? ctx.idPlaceholder.current;
  if (resolved === undefined) {
    throw errors.invalidField(
      'Unique Identifier is missing and no earlier batch item set the ID placeholder',
    );
  }
  return resolved;
}

/**
 * Loads an object the principal may see. Another owner's object is Item Not Found, exactly like an object that does
 * not exist, so that a client learns nothing of objects it may not see (DESIGN.md "Identity, access, audit").
 */
export async function loadObject(
  uid: string,
  ctx: RequestContext,
  options: { readonly archived?: 'allow' } = {},
): Promise<ManagedObject> {
  // A Delegated Login ticket's Rights cover every object an operation loads, not only the one it names
  // (dispatch.ts checkRights): the ID placeholder's, a wrapping key, a PKCS#12 password.
  if (ctx.rights !== undefined && !rightsAllow(ctx.rights, ctx.operation, uid)) {
    throw errors.permissionDenied(
      `the Rights of this Delegated Login ticket do not allow ${ctx.operation} on ${uid}`,
    );
  }
  const stored = await ctx.store.get(uid);
  const access =
    stored && typeInVersion(stored.objectType, ctx.version)
      ? objectAccess(ctx.principal, stored.owner, ctx.access)
      : 'hidden';
  if (!stored || access === 'hidden') throw errors.objectNotFound(`no object with Unique Identifier ${uid}`);
  if (access === 'denied') {
    throw errors.permissionDenied(
      `${ctx.principal.name} may see object ${uid} but not ${ctx.access === 'manage' ? 'change it' : 'read its key material'}`,
    );
  }
  ctx.touched.push(uid);
  const object = withDateTransitions(fromStored(stored), nowSeconds(ctx));
  // KMIP 1.4 §4, 2.1 §6.1: "any archived object SHALL first be made available by a Recover operation" (an
  // archived object is one with an Archive Date, 1.4 §3.32, archive.ts; only Recover loads it).
  if (options.archived !== 'allow' && single(object.attributes, 'ArchiveDate') !== undefined)
    throw errors.objectArchived(`object ${uid} is archived; Recover it first`);
  return object;
}

/**
 * The State its dates have brought an object to (KMIP 1.4 §3.22 transitions 4 and 6; 2.1 §4.57): a Pre-Active
 * object whose Activation Date has come is Active, an Active one whose Deactivation Date has come is Deactivated.
 * Applied whenever an object is loaded, so every operation sees it; it is stored with the object's next change.
 */
export function dateState(attributes: readonly Attribute[], state: number, now: bigint): number {
  const reached = (name: string): boolean => {
    const item = single(attributes, name);
    return item?.type === ItemType.DateTime && item.value <= now;
  };
  let next = state;
  if (next === State.PreActive && reached('ActivationDate')) next = State.Active;
  if (next === State.Active && reached('DeactivationDate')) next = State.Deactivated;
  return next;
}

/**
 * Pre-Active, or Active when the client gives an Activation Date that is not in the future (KMIP 1.4 §3.24:
 * "If the Activation Date ... is set to ... the current time or earlier, the object SHALL be Active").
 */
export function activationState(attributes: readonly Attribute[], ctx: RequestContext): number {
  return dateState(attributes, State.PreActive, nowSeconds(ctx));
}

function withDateTransitions(object: ManagedObject, now: bigint): ManagedObject {
  const state = stateOf(object);
  const next = dateState(object.attributes, state, now);
  if (next === state) return object;
  return { ...object, attributes: withAttribute(object.attributes, ttlv.enumeration(T.State, next)) };
}

/** Writes a changed object, with Last Change Date set (KMIP 1.4 §3.38). */
export async function saveObject(
  object: ManagedObject,
  attributes: readonly Attribute[],
  ctx: RequestContext,
  change: { readonly dropMaterial?: boolean } = {},
): Promise<ManagedObject> {
  const material = change.dropMaterial === true ? undefined : object.material;
  const changed = withAttribute(attributes, ttlv.dateTime(T.LastChangeDate, nowSeconds(ctx)));
  return putNextRevision(object, { attributes: changed, material }, ctx);
}

/**
 * The object's next revision with these attributes and Last Change Date now (KMIP 1.4 §3.38), as a put for the
 * caller's atomic commit with the objects it changes together (a new object and the one it links from).
 */
export function nextRevisionPut(
  object: ManagedObject,
  attributes: readonly Attribute[],
  ctx: RequestContext,
): NonNullable<StoreChange['put']>[number] {
  const changed = withAttribute(attributes, ttlv.dateTime(T.LastChangeDate, nowSeconds(ctx)));
  const revision = object.revision + 1;
  return {
    object: toStored({ ...object, attributes: changed, revision }, revision),
    expectedRevision: object.revision,
  };
}

/**
 * Stores the object's material in another sealed form of the same bytes (KeyService.unsealToServe). No attribute
 * changes, Last Change Date included: to the client the object is what it was.
 */
export async function saveMaterial(
  object: ManagedObject,
  material: Material,
  ctx: RequestContext,
): Promise<ManagedObject> {
  return putNextRevision(object, { material }, ctx);
}

/** Stores the object's next revision with the given changes, refused if another request has stored one since. */
async function putNextRevision(
  object: ManagedObject,
  changes: Pick<ManagedObject, 'material'> & Partial<Pick<ManagedObject, 'attributes'>>,
  ctx: RequestContext,
): Promise<ManagedObject> {
  const next: ManagedObject = { ...object, ...changes, revision: object.revision + 1 };
  await ctx.store.commit({
    put: [{ object: toStored(next, next.revision), expectedRevision: object.revision }],
  });
  return next;
}

/** Stores a new object and makes its UID the ID placeholder for the rest of the message. */
/** A store write that creates `object`: its first revision, where none may exist yet. */
export function newObjectPut(
  object: Omit<ManagedObject, 'revision'>,
): NonNullable<StoreChange['put']>[number] {
  return { object: toStored({ ...object, revision: 1 }, 1), expectedRevision: 0 };
}

export async function createObject(
  object: Omit<ManagedObject, 'revision'>,
  ctx: RequestContext,
  /** Other objects written in the same atomic commit (Derive Key's link on its base object). */
  alsoPut: NonNullable<StoreChange['put']> = [],
): Promise<ManagedObject> {
  const created: ManagedObject = { ...object, revision: 1 };
  await ctx.store.commit({ put: [newObjectPut(object), ...alsoPut] });
  ctx.idPlaceholder.current = created.uid;
  ctx.touched.push(created.uid);
  return created;
}

/** Attribute-list helpers shared by the attribute operations. */
export function instancesOf(attributes: readonly Attribute[], key: string): Attribute[] {
  return attributes.filter((a) => attributeKey(a) === key);
}

export const uidTag = tag('UniqueIdentifier');

/** The request payload of the operations that take the Unique Identifier alone (absent: the ID placeholder). */
export function uidRequest(payload: Fields | undefined): string | undefined {
  return payload?.text('UniqueIdentifier');
}

/** The response payload of the operations that answer with the Unique Identifier alone. */
export function uidResponse(uid: string): TtlvItem[] {
  return [ttlv.textString(uidTag, uid)];
}
