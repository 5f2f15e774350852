import { ItemType, itemTypeName, ttlv, type TtlvItem } from '../ttlv/types.js';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { FieldError, Fields } from './fields.js';
import { registryFor, versionAtLeast, type KmipVersion } from './registry.js';
import { tag, tags } from './vocabulary.js';

/**
 * Managed-object attributes in one form for every version. KMIP 1.x carries an attribute as
 * Attribute { Attribute Name (text), Attribute Index?, Attribute Value } (1.4 §2.1.1); KMIP 2.x carries a standard
 * attribute as an item with its own tag inside Attributes, and a vendor one as
 * Attribute { Vendor Identification, Attribute Name, Attribute Value } (2.1 §2.1.1, §4.1). Here a standard
 * attribute is its value item under its own tag; a custom one keeps the Attribute Value tag and the 1.x name
 * ("x-ID" = vendor "x", name "ID").
 */
export type Attribute =
  | { readonly kind: 'standard'; readonly value: TtlvItem }
  | { readonly kind: 'custom'; readonly name: string; readonly value: TtlvItem };

const T = tags(
  'Attribute',
  'AttributeName',
  'AttributeIndex',
  'AttributeValue',
  'Attributes',
  'VendorIdentification',
);

/** A stable key for "the same attribute": the tag of a standard one, the name of a custom one. */
export function attributeKey(attribute: Attribute): string {
  return attribute.kind === 'standard' ? `#${attribute.value.tag}` : attribute.name;
}

/**
 * Tags that exist as fields before they are attributes: Key Format Type is a Key Block field from 1.0 and an
 * attribute from 2.0 (2.1 §4.26), so a 1.x response must not list it among the attributes. (The certificate name
 * fields, Certificate Subject CN and the rest, arrive as tags in 1.4, where the OASIS reference server already
 * lists them as attributes (TC-CERTATTR-1-14, TC-ECC-3-14); 2.0 describes them as such (2.1 §4.8).)
 */
const attributeSince: ReadonlyMap<number, KmipVersion> = new Map<number, KmipVersion>([
  [tag('KeyFormatType'), '2.0'],
]);

/** The 1.x name of an attribute in a version (its spec spelling), undefined when the version lacks it. */
export function attributeName(attribute: Attribute, version: KmipVersion): string | undefined {
  if (attribute.kind === 'custom') return attribute.name;
  const since = attributeSince.get(attribute.value.tag);
  if (since !== undefined && !versionAtLeast(version, since)) return undefined;
  return registryFor(version).tag(attribute.value.tag)?.name;
}

function retag(item: TtlvItem, newTag: number): TtlvItem {
  return { ...item, tag: newTag };
}

/** Checks that a value has the item type its attribute's tag has in this version (KMIP 1.4 §3, "Encoding"). */
function checkType(value: TtlvItem, version: KmipVersion, path: string): void {
  const info = registryFor(version).tag(value.tag);
  if (info?.type !== undefined && info.type !== value.type) {
    throw new FieldError(
      'wrong-type',
      path,
      `${info.name} must be a ${itemTypeName(info.type) ?? '?'}, not a ${itemTypeName(value.type) ?? '?'}`,
    );
  }
}

/** Reads one 1.x Attribute structure. */
export function readAttribute1x(fields: Fields): Attribute {
  const name = fields.requiredText('AttributeName');
  const value = fields.required('AttributeValue');
  if (/^[xy]-/i.test(name)) return { kind: 'custom', name, value };
  const info = registryFor(fields.version).attributeTag(name);
  if (info === undefined) {
    throw new FieldError(
      'bad-value',
      `${fields.path}/AttributeName`,
      `'${name}' is not an attribute in KMIP ${fields.version}`,
    );
  }
  const own = retag(value, info.value);
  checkType(own, fields.version, `${fields.path}/AttributeValue`);
  return { kind: 'standard', value: own };
}

/** Reads a 2.x Attributes structure (also used for the 2.x Common/Private/Public Attributes). */
export function readAttributes2x(fields: Fields): Attribute[] {
  return fields.item.value.map((child, i): Attribute => {
    const path = `${fields.path}/[${i}]`;
    if (child.tag === T.Attribute) {
      const vendor = new Fields(child, fields.version, path);
      const vendorId = vendor.requiredText('VendorIdentification');
      const name = vendor.requiredText('AttributeName');
      return { kind: 'custom', name: `${vendorId}-${name}`, value: vendor.required('AttributeValue') };
    }
    checkType(child, fields.version, path);
    return { kind: 'standard', value: child };
  });
}

/**
 * The attributes a request supplies in a container: 1.x Template-Attribute-like structures (a list of Attribute
 * and, in 1.x, Name references to templates, which this server does not keep) or 2.x Attributes.
 */
export function readAttributeContainer(container: Fields): Attribute[] {
  if (container.item.tag === T.Attributes || container.version.startsWith('2.'))
    return readAttributes2x(container);
  return container.structs('Attribute').map(readAttribute1x);
}

/** A 1.x Attribute structure, or undefined when the version does not define the attribute. */
export function encodeAttribute1x(
  attribute: Attribute,
  version: KmipVersion,
  index?: number,
): TtlvItem | undefined {
  const name = attributeName(attribute, version);
  if (name === undefined) return undefined;
  const fields: TtlvItem[] = [ttlv.textString(T.AttributeName, name)];
  if (index !== undefined && index > 0) fields.push(ttlv.integer(T.AttributeIndex, index));
  fields.push(retag(digestFor(attribute.value, version), T.AttributeValue));
  return ttlv.structure(T.Attribute, fields);
}

const digestTag = tag('Digest');
const keyFormatTypeTag = tag('KeyFormatType');

/** KMIP 1.0's Digest (§3.12) holds Hashing Algorithm and Digest Value only; Key Format Type came with 1.1. */
function digestFor(value: TtlvItem, version: KmipVersion): TtlvItem {
  if (version !== '1.0' || value.tag !== digestTag || value.type !== ItemType.Structure) return value;
  return ttlv.structure(
    value.tag,
    value.value.filter((c) => c.tag !== keyFormatTypeTag),
  );
}

/** The item for an attribute inside a 2.x Attributes structure, or undefined when the version lacks it. */
export function encodeAttribute2x(attribute: Attribute, version: KmipVersion): TtlvItem | undefined {
  if (attribute.kind === 'custom') {
    const dash = attribute.name.indexOf('-');
    return ttlv.structure(T.Attribute, [
      ttlv.textString(T.VendorIdentification, dash > 0 ? attribute.name.slice(0, dash) : 'x'),
      ttlv.textString(T.AttributeName, dash > 0 ? attribute.name.slice(dash + 1) : attribute.name),
      retag(attribute.value, T.AttributeValue),
    ]);
  }
  return registryFor(version).tag(attribute.value.tag) ? attribute.value : undefined;
}

/** A list of attributes as the version writes them in a response: 1.x Attribute structures or 2.x Attributes. */
export function encodeAttributes(attributes: readonly Attribute[], version: KmipVersion): TtlvItem[] {
  if (version.startsWith('2.')) {
    const items = attributes.flatMap((a) => encodeAttribute2x(a, version) ?? []);
    return [ttlv.structure(T.Attributes, items)];
  }
  const indexes = new Map<string, number>();
  return attributes.flatMap((a) => {
    const key = attributeKey(a);
    const index = indexes.get(key) ?? 0;
    indexes.set(key, index + 1);
    return encodeAttribute1x(a, version, index) ?? [];
  });
}

/** Attributes as stored: one TTLV Attributes structure, version-independent (custom ones as 2.x vendor form). */
export function serializeAttributes(attributes: readonly Attribute[]): Uint8Array {
  return encodeTtlv(
    ttlv.structure(
      T.Attributes,
      attributes.map((a) =>
        a.kind === 'custom'
          ? ttlv.structure(T.Attribute, [
              ttlv.textString(T.AttributeName, a.name),
              retag(a.value, T.AttributeValue),
            ])
          : a.value,
      ),
    ),
  );
}

export function deserializeAttributes(bytes: Uint8Array): Attribute[] {
  const root = decodeTtlv(bytes);
  if (root.type !== ItemType.Structure) throw new Error('stored attributes are not a structure');
  return root.value.map((child): Attribute => {
    if (child.tag === T.Attribute && child.type === ItemType.Structure) {
      const name = child.value.find((c) => c.tag === T.AttributeName);
      const value = child.value.find((c) => c.tag === T.AttributeValue);
      if (name?.type !== ItemType.TextString || !value)
        throw new Error('stored custom attribute is malformed');
      return { kind: 'custom', name: name.value, value };
    }
    return { kind: 'standard', value: child };
  });
}

/** The standard attributes with a tag. */
export function standard(attributes: readonly Attribute[], tagName: string): TtlvItem[] {
  const t = tag(tagName);
  const found: TtlvItem[] = [];
  for (const a of attributes) if (a.kind === 'standard' && a.value.tag === t) found.push(a.value);
  return found;
}

/**
 * The first standard attribute with a tag: standard()[0] without building the list. Every request reads several
 * (State, Object Type, dates), so this is on the path of each one.
 */
export function firstStandard(attributes: readonly Attribute[], tagName: string): TtlvItem | undefined {
  const t = tag(tagName);
  for (const a of attributes) if (a.kind === 'standard' && a.value.tag === t) return a.value;
  return undefined;
}
