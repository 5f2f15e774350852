import { attributeName, type Attribute } from '../kmip/attributes.js';
import { registryFor, type KmipVersion } from '../kmip/registry.js';
import { tag } from '../kmip/vocabulary.js';

/**
 * The order in which Get Attribute List and Get Attributes (without names) list an object's attributes: custom
 * attributes first, by name; then those that say what the object is (Unique Identifier, Short Unique Identifier,
 * Object Type, then Cryptographic Algorithm and Length for a key, or Certificate Type for a certificate); then the
 * others by name, except that Key Format Type (an attribute since 2.0; 1.x carried it inside the Digest) comes
 * right after Digest. The specification leaves the order to the server. This one does not depend on the order in
 * which the attributes were set, and it is the reference server's in the OASIS vectors (SKFF-M-9 to M-11, TL-M-3,
 * TC-CERTATTR-1, the lifecycle files' Get Attributes), which clients written against them may expect. Instances of
 * one attribute keep their stored order (the sort is stable).
 */
export function listingOrder(attributes: readonly Attribute[], version: KmipVersion): Attribute[] {
  const certificate = attributes.some((a) => a.kind === 'standard' && a.value.tag === certificateTypeTag);
  const first = certificate ? leadingForCertificates : leading;
  const rank = (a: Attribute): number =>
    a.kind === 'custom' ? 0 : 1 + (first.get(a.value.tag) ?? first.size);
  const digestName = registryFor(version).tag(digestTag)?.name ?? '';
  const follows = (a: Attribute): boolean => a.kind === 'standard' && a.value.tag === keyFormatTypeTag;
  const name = (a: Attribute): string => (follows(a) ? digestName : (attributeName(a, version) ?? ''));
  return [...attributes].sort(
    (a, b) =>
      rank(a) - rank(b) || name(a).localeCompare(name(b), 'en') || Number(follows(a)) - Number(follows(b)),
  );
}

const digestTag = tag('Digest');
const certificateTypeTag = tag('CertificateType');
const keyFormatTypeTag = tag('KeyFormatType');

const leading = new Map(
  [
    'UniqueIdentifier',
    'ShortUniqueIdentifier',
    'ObjectType',
    'CryptographicAlgorithm',
    'CryptographicLength',
  ].map((n, i) => [tag(n), i]),
);

/** A certificate is said by its Certificate Type; its key's algorithm and length sort with the rest (TC-CERTATTR-1). */
const leadingForCertificates = new Map(
  ['UniqueIdentifier', 'ShortUniqueIdentifier', 'ObjectType', 'CertificateType'].map((n, i) => [tag(n), i]),
);
