import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../../ttlv/types.js';
import {
  attributeKey,
  attributeName,
  readAttributeContainer,
  type Attribute,
} from '../../kmip/attributes.js';
import type { Fields } from '../../kmip/fields.js';
import { registryFor } from '../../kmip/registry.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import { objectAccess } from '../access.js';
import { handler, type RequestContext } from '../context.js';
import { keyRefIds } from '../crypto/key-ref.js';
import { errors } from '../errors.js';
import { unwrapStored } from '../key-wrapping.js';
import {
  activationState,
  enumAttribute,
  fromStored,
  nowSeconds,
  State,
  toStored,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import {
  child,
  impliedAttributes,
  materialForRegister,
  objectTypeOfStructureTag,
  readObjectStructure,
} from '../object-payloads.js';
import { registeredDigest } from '../server-attributes.js';
import { isMultiValued } from '../template.js';

const T = tags(
  'UniqueIdentifier',
  'ObjectType',
  'State',
  'InitialDate',
  'LastChangeDate',
  'Digest',
  'HashingAlgorithm',
  'DigestValue',
  'KeyFormatType',
  'KeyBlock',
  'KeyWrappingData',
);
const KeyWrapType = enumValues('KeyWrapType', 'NotWrapped');
const HashingAlgorithm = enumValues('HashingAlgorithm', 'SHA_256');
const destroyed: ReadonlySet<number> = new Set([State.Destroyed, State.DestroyedCompromised]);

interface ImportRequest {
  readonly uid: string;
  readonly objectType: number;
  readonly replaceExisting: boolean;
  readonly keyWrapType: number | undefined;
  readonly attributes: Attribute[];
  readonly structure: StructureItem;
}

/**
 * The attributes of an Import as the request gives them (KMIP 1.4 §4.41: repeated Attribute structures in the
 * payload; 2.x §6.1.24/§6.1.25: one Attributes structure). Server-set attributes (State, Initial Date, Digest ...)
 * are welcome here: "The attribute rules for each attribute for 'Initially set by' and 'When implicitly set' SHALL
 * NOT be enforced". What stays enforced: one instance of a single-valued attribute (Attribute Single Valued, 2.1
 * Table 240), and a Unique Identifier and Object Type that agree with the request's own fields.
 */
function importedAttributes(
  request: Omit<ImportRequest, 'attributes'>,
  given: Attribute[],
  ctx: RequestContext,
) {
  const seen = new Set<string>();
  for (const attribute of given) {
    const key = attributeKey(attribute);
    if (seen.has(key) && !isMultiValued(attribute)) {
      const name = attributeName(attribute, ctx.version) ?? key;
      throw errors.attributeSingleValued(
        `${name} may have one instance only, but the Import gives it more than once`,
      );
    }
    seen.add(key);
    const value = attribute.kind === 'standard' ? attribute.value : undefined;
    if (
      value?.tag === T.UniqueIdentifier &&
      (value.type !== ItemType.TextString || value.value !== request.uid)
    ) {
      throw errors.invalidAttributeValue(
        'the Unique Identifier attribute differs from the one the Import names',
      );
    }
    if (
      value?.tag === T.ObjectType &&
      (value.type !== ItemType.Enumeration || value.value !== request.objectType)
    ) {
      throw errors.invalidAttributeValue('the Object Type attribute differs from the one the Import names');
    }
    // The store indexes the State by name: a value no version defines would not be one.
    if (
      value?.tag === T.State &&
      (value.type !== ItemType.Enumeration ||
        registryFor(ctx.version).enumName(T.State, value.value) === undefined)
    ) {
      throw errors.invalidAttributeValue('the State attribute is not a State');
    }
    // A destroyed object has no material (destroy.ts drops it): it cannot come with some.
    if (value?.type === ItemType.Enumeration && value.tag === T.State && destroyed.has(value.value)) {
      throw errors.invalidAttributeValue('an object in a Destroyed state has no value to import');
    }
  }
  return given;
}

/**
 * A Digest the client gives that covers what the server can compute itself (SHA-256 over the Key Material in the
 * registered format, KMIP 1.4 §3.17) must be that digest: an imported object never carries a false one.
 */
function checkDigests(given: readonly Attribute[], computed: Attribute | undefined): void {
  if (computed?.kind !== 'standard') return;
  const fieldsOf = (digest: TtlvItem) => ({
    algorithm: child(digest, T.HashingAlgorithm),
    value: child(digest, T.DigestValue),
    format: child(digest, T.KeyFormatType),
  });
  const ours = fieldsOf(computed.value);
  for (const attribute of given) {
    if (attribute.kind !== 'standard' || attribute.value.tag !== T.Digest) continue;
    const theirs = fieldsOf(attribute.value);
    const sameKind =
      theirs.algorithm?.type === ItemType.Enumeration &&
      theirs.algorithm.value === HashingAlgorithm.SHA_256 &&
      theirs.format?.value === ours.format?.value;
    if (!sameKind) continue;
    const equal =
      theirs.value?.type === ItemType.ByteString &&
      ours.value?.type === ItemType.ByteString &&
      Buffer.from(theirs.value.value).equals(Buffer.from(ours.value.value));
    if (!equal)
      throw errors.invalidAttributeValue('the SHA-256 Digest given is not the digest of the object imported');
  }
}

/**
 * The Object Type of a 1.x Import, which has no Object Type field (KMIP 1.4 Table 253): the field if a client sends
 * it anyway, else the Object Type attribute, else the object structure the payload holds.
 */
function objectTypeOf1x(payload: Fields, given: readonly Attribute[]): number {
  const named = payload.enumeration('ObjectType') ?? enumAttribute(given, 'ObjectType');
  if (named !== undefined) return named;
  const types = payload.item.value.flatMap((c) => objectTypeOfStructureTag(c.tag) ?? []);
  if (types[0] === undefined || types.length > 1)
    throw errors.invalidField('the Import holds no object, or more than one');
  return types[0];
}

/** Standard attributes of these tags that the request does not give, from `fallback`. */
function missing(given: readonly Attribute[], fallback: readonly TtlvItem[]): Attribute[] {
  return fallback
    .filter((item) => !given.some((a) => a.kind === 'standard' && a.value.tag === item.tag))
    .map((value): Attribute => ({ kind: 'standard', value }));
}

/**
 * The object an Import replaces, if any, when the caller may replace it; an object the caller may not see is a
 * Unique Identifier already taken (Object Already Exists whether or not Replace Existing is set, so that the answer
 * tells nothing more about it).
 */
async function existingObject(
  request: ImportRequest,
  ctx: RequestContext,
): Promise<ManagedObject | undefined> {
  const stored = await ctx.store.get(request.uid);
  if (!stored) return undefined;
  const access = objectAccess(ctx.principal, stored.owner, 'manage');
  if (access === 'hidden' || !request.replaceExisting) {
    throw errors.objectAlreadyExists(
      `an object with Unique Identifier ${request.uid} exists${access === 'hidden' ? '' : ' and Replace Existing is not set'}`,
    );
  }
  if (access === 'denied') {
    throw errors.permissionDenied(`${ctx.principal.name} may see object ${request.uid} but not replace it`);
  }
  return fromStored(stored);
}

/**
 * Import (KMIP 1.4 §4.41, 2.0 §6.1.24, 2.1 §6.1.25): stores an object under the Unique Identifier the client gives,
 * with the attributes the client gives, as they are (typically what an Export elsewhere answered). Secret material
 * is sealed by the token exactly as Register seals it. What the request leaves out and every object needs is set as
 * Register sets it: Unique Identifier, Object Type, State (from the dates), Initial and Last Change Date, the
 * attributes the object structure implies, and the Digest. With Replace Existing the object takes the place of the
 * one with that identifier (same owner, one atomic change); without it an existing identifier is Object Already
 * Exists. Key Wrap Type Not Wrapped asks the server to unwrap a wrapped object before storing it, which this server
 * cannot do (Feature Not Supported); otherwise a wrapped object is stored as provided.
 */
export const importObject = handler({
  operation: 'Import',
  since: '1.4',
  access: 'create',
  decodeRequest(payload, ctx): ImportRequest {
    if (!payload) throw errors.invalidField('Import needs a request payload');
    const uid = payload.requiredText('UniqueIdentifier');
    if (uid === '') throw errors.invalidField('the Unique Identifier of an Import cannot be empty');
    const v2 = ctx.version.startsWith('2.');
    const given = readAttributeContainer(v2 ? payload.requiredStruct('Attributes') : payload);
    const objectType = v2 ? payload.requiredEnumeration('ObjectType') : objectTypeOf1x(payload, given);
    const fields = {
      uid,
      objectType,
      replaceExisting: payload.boolean('ReplaceExisting') ?? false,
      keyWrapType: payload.enumeration('KeyWrapType'),
      structure: readObjectStructure(payload, objectType, ctx),
    };
    return { ...fields, attributes: importedAttributes(fields, given, ctx) };
  },
  async execute(request: ImportRequest, ctx) {
    // Key Wrap Type Not Wrapped: stored in clear, unwrapped by the key its Key Wrapping Data names (2.1 §6.1.25).
    const structure =
      request.keyWrapType === KeyWrapType.NotWrapped
        ? await unwrapStored({ uid: request.uid }, request.structure, ctx)
        : request.structure;
    const existing = await existingObject(request, ctx);
    const owner = existing?.owner ?? ctx.principal.name;
    const given = request.attributes;
    const digest = await registeredDigest(structure, ctx);
    checkDigests(given, digest);
    const now = nowSeconds(ctx);
    const attributes: Attribute[] = [
      ...missing(given, [
        ttlv.textString(T.UniqueIdentifier, request.uid),
        ttlv.enumeration(T.ObjectType, request.objectType),
        ttlv.enumeration(T.State, activationState(given, ctx)),
        ttlv.dateTime(T.InitialDate, now),
        ttlv.dateTime(T.LastChangeDate, now),
      ]),
      ...given,
      ...missing(given, impliedAttributes(structure)),
      ...(digest && !given.some((a) => a.kind === 'standard' && a.value.tag === T.Digest) ? [digest] : []),
    ];
    const material = await materialForRegister(structure, request.objectType, owner, ctx);
    const revision = (existing?.revision ?? 0) + 1;
    const object: ManagedObject = { uid: request.uid, revision, owner, attributes, material };
    await ctx.store.commit({
      put: [{ object: toStored(object, revision), expectedRevision: existing?.revision ?? 0 }],
    });
    // The token may hold the replaced object's key for cryptographic calls (key-ref.ts): that key is gone.
    if (existing) for (const id of keyRefIds(request.uid)) ctx.keys.hsm.forgetKey(id);
    ctx.touched.push(request.uid);
    ctx.idPlaceholder.current = request.uid;
    return request.uid;
  },
  encodeResponse: uidResponse,
});
