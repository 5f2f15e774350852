import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import {
  attributeKey,
  attributeName,
  encodeAttribute1x,
  readAttribute1x,
  readAttributes2x,
  type Attribute,
} from '../kmip/attributes.js';
import { Fields } from '../kmip/fields.js';
import { registryFor, type KmipVersion } from '../kmip/registry.js';
import { tag, tags } from '../kmip/vocabulary.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { nowSeconds, objectTypeOf, State, stateOf, uidTag, type ManagedObject } from './managed-object.js';
import { asksQuantumSafe, requireQuantumSafe } from './quantum-safe.js';
import { isReadOnly } from './template.js';

/**
 * Naming attributes in the attribute operations: 1.x by Attribute Name text (1.4 §4.12-§4.16), 2.x by Attribute
 * Reference, a Tag enumeration value or a vendor { Vendor Identification, Attribute Name } structure (2.1 §7.2).
 */
const T = tags('AttributeReference', 'VendorIdentification', 'AttributeName');

/** The key (see attributeKey) of an attribute named by a 1.x Attribute Name. */
export function keyOfName(name: string, version: KmipVersion): string {
  if (/^[xy]-/i.test(name)) return name;
  const info = registryFor(version).attributeTag(name);
  if (!info) throw errors.invalidField(`'${name}' is not an attribute in KMIP ${version}`);
  return `#${info.value}`;
}

/** The key of an attribute named by a 2.x Attribute Reference item. */
export function keyOfReference(item: TtlvItem, version: KmipVersion): string {
  if (item.type === ItemType.Enumeration) {
    if (!registryFor(version).tag(item.value))
      throw errors.invalidField(`tag ${item.value} is not defined in KMIP ${version}`);
    return `#${item.value}`;
  }
  const fields = new Fields(item, version, 'AttributeReference');
  return `${fields.requiredText('VendorIdentification')}-${fields.requiredText('AttributeName')}`;
}

/** A 2.x Attribute Reference for an attribute. */
export function referenceOf(attribute: Attribute): TtlvItem {
  if (attribute.kind === 'standard') return ttlv.enumeration(T.AttributeReference, attribute.value.tag);
  const dash = attribute.name.indexOf('-');
  return ttlv.structure(T.AttributeReference, [
    ttlv.textString(T.VendorIdentification, dash > 0 ? attribute.name.slice(0, dash) : 'x'),
    ttlv.textString(T.AttributeName, dash > 0 ? attribute.name.slice(dash + 1) : attribute.name),
  ]);
}

/** The one attribute inside a 1.x Attribute field or a 2.x New/Current Attribute structure. */
export function oneAttribute(fields: Fields, ctx: RequestContext): Attribute {
  if (!ctx.version.startsWith('2.')) return readAttribute1x(fields);
  const inner = readAttributes2x(fields);
  const [first, ...rest] = inner;
  if (!first || rest.length > 0) throw errors.invalidField(`${fields.path} must hold exactly one attribute`);
  return first;
}

/**
 * Lifecycle dates a client may change only in some states (KMIP 1.4 §3.24-§3.27 "Modifiable by client"; 2.1
 * §4.1, §4.46, §4.47, §4.22): Activation Date only while Pre-Active; Process Start Date and Protect Stop Date only
 * while Pre-Active or Active and before the date already set is reached; Deactivation Date only while Pre-Active
 * or Active.
 */
const lifecycleDates: ReadonlyMap<
  number,
  { readonly states: readonly number[]; readonly untilReached: boolean }
> = new Map([
  [tag('ActivationDate'), { states: [State.PreActive], untilReached: false }],
  [tag('ProcessStartDate'), { states: [State.PreActive, State.Active], untilReached: true }],
  [tag('ProtectStopDate'), { states: [State.PreActive, State.Active], untilReached: true }],
  [tag('DeactivationDate'), { states: [State.PreActive, State.Active], untilReached: false }],
]);

const originalCreationDateTag = tag('OriginalCreationDate');

/**
 * Refuses a change to an attribute the client may not change, or not in the object's state, naming it. `adding`:
 * the change is an Add Attribute, which may give a registered object the Original Creation Date it was registered
 * without (KMIP 1.4 §3.43: "it MAY do so at a later time through an Add Attribute operation"); a generated object
 * always has the server's.
 */
export function checkWritable(
  attribute: Attribute,
  object: ManagedObject,
  ctx: RequestContext,
  options: { readonly adding?: boolean } = {},
): void {
  const name = attributeName(attribute, ctx.version) ?? attributeKey(attribute);
  const lateCreationDate =
    options.adding === true &&
    attribute.kind === 'standard' &&
    attribute.value.tag === originalCreationDateTag &&
    !object.attributes.some((a) => a.kind === 'standard' && a.value.tag === originalCreationDateTag);
  if (isReadOnly(attribute) && !lateCreationDate) {
    throw errors.attributeReadOnly(`${name} cannot be changed by a client`);
  }
  // Turning Quantum Safe on is a promise about the object the server must be able to keep (quantum-safe.ts); an
  // object that already has it (imported as it was) may still change its other attributes.
  if (asksQuantumSafe([attribute]) && !asksQuantumSafe(object.attributes))
    requireQuantumSafe(objectTypeOf(object), [...object.attributes, attribute]);
  if (attribute.kind !== 'standard') return;
  const rule = lifecycleDates.get(attribute.value.tag);
  if (rule === undefined) return;
  if (!rule.states.includes(stateOf(object))) {
    throw errors.wrongStateForChange(
      `${name} of object ${object.uid} cannot be changed in its current state`,
    );
  }
  const current = object.attributes.find((a) => a.kind === 'standard' && a.value.tag === attribute.value.tag);
  if (
    rule.untilReached &&
    current?.value.type === ItemType.DateTime &&
    current.value.value <= nowSeconds(ctx)
  ) {
    throw errors.wrongStateForChange(
      `${name} of object ${object.uid} has been reached and can no longer change`,
    );
  }
}

/**
 * The response of Add, Modify and Delete Attribute: the Unique Identifier and, in 1.x, the attribute instance the
 * operation touched with its index (KMIP 1.4 §4.14-§4.16); 2.x answers with the identifier alone.
 */
export function attributeEditResponse(
  response: { readonly uid: string; readonly attribute: Attribute; readonly index: number },
  ctx: RequestContext,
): TtlvItem[] {
  const out: TtlvItem[] = [ttlv.textString(uidTag, response.uid)];
  if (!ctx.version.startsWith('2.')) {
    const echoed = encodeAttribute1x(response.attribute, ctx.version, response.index);
    if (echoed) out.push(echoed);
  }
  return out;
}
