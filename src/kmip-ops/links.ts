/**
 * The Link attribute (KMIP 1.4 §3.35, 2.1 §4.33): how the operations that make related objects (Create Key Pair,
 * Re-key, Re-key Key Pair, Derive Key) write a link and read one back.
 */
import { ItemType, ttlv } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import type { ManagedObject } from './managed-object.js';

const T = tags('Link', 'LinkType', 'LinkedObjectIdentifier');

/** The Link Types the server sets itself. */
export const LinkType = enumValues(
  'LinkType',
  'PublicKeyLink',
  'PrivateKeyLink',
  'ReplacementObjectLink',
  'ReplacedObjectLink',
  'DerivationBaseObjectLink',
  'DerivedKeyLink',
  'CertificateLink',
  'PKCS_12CertificateLink',
);

/** A Link attribute of a type to an object. */
export function link(type: number, uid: string): Attribute {
  return {
    kind: 'standard',
    value: ttlv.structure(T.Link, [
      ttlv.enumeration(T.LinkType, type),
      ttlv.textString(T.LinkedObjectIdentifier, uid),
    ]),
  };
}

/** The Link Type of an attribute that is a Link; undefined for any other attribute. */
export function linkTypeOf(attribute: Attribute): number | undefined {
  const v = attribute.value;
  if (attribute.kind !== 'standard' || v.tag !== T.Link || v.type !== ItemType.Structure) return undefined;
  const type = v.value.find((c) => c.tag === T.LinkType);
  return type?.type === ItemType.Enumeration ? type.value : undefined;
}

/** The objects the Links of a type among `attributes` point to, in the order the Links are held. */
export function linkedUids(attributes: readonly Attribute[], type: number): string[] {
  const uids: string[] = [];
  for (const a of attributes) {
    if (linkTypeOf(a) !== type || a.value.type !== ItemType.Structure) continue;
    const target = a.value.value.find((c) => c.tag === T.LinkedObjectIdentifier);
    if (target?.type === ItemType.TextString) uids.push(target.value);
  }
  return uids;
}

/** The object one Link of a type points to, if the object has such a Link. */
export function linkedUid(object: ManagedObject, type: number): string | undefined {
  return linkedUids(object.attributes, type)[0];
}
