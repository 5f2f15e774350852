import type { TextNames } from '../ttlv/text-names.js';
import { kmipVersions, registryFor, type KmipRegistry, type KmipVersion } from './registry.js';

/**
 * The names a KMIP version gives to tags, enumerations and masks, in the shape the ttlv layer's XML and JSON
 * encodings ask for. One instance per version, built on first use.
 */
const cache = new Map<KmipVersion, TextNames>();

export function textNamesFor(version: KmipVersion): TextNames {
  let names = cache.get(version);
  if (!names) {
    names = adapt(registryFor(version));
    cache.set(version, names);
  }
  return names;
}

/**
 * Other versions' registries, nearest first. Reading accepts an enumeration or mask name as another KMIP version
 * spells it for the same tag and value (the 1.4 test cases write the 2.0 spelling "SHA_256WithRSAEncryption", the
 * 2.0 ones the 1.x bit name "ContentCommitment"); writing always uses the message version's own names.
 */
function neighbours(version: KmipVersion): KmipRegistry[] {
  const at = kmipVersions.indexOf(version);
  return kmipVersions
    .filter((v) => v !== version)
    .sort((a, b) => Math.abs(kmipVersions.indexOf(a) - at) - Math.abs(kmipVersions.indexOf(b) - at))
    .map((v) => registryFor(v));
}

function adapt(registry: KmipRegistry): TextNames {
  const others = neighbours(registry.version);
  const enumValue = (tag: number, name: string): number | undefined => {
    const own = registry.enumValue(tag, name);
    if (own !== undefined || registry.enumNames(tag) === undefined) return own;
    for (const other of others) {
      const value = other.enumValue(tag, name);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const maskBit = (tag: number, name: string): number | undefined => {
    for (const candidate of [registry, ...others]) {
      const bit = candidate.isMask(tag) ? candidate.maskValue(tag, [name]) : undefined;
      if (bit !== undefined) return bit;
    }
    return undefined;
  };
  return {
    tagName: (tag) => registry.tag(tag)?.xmlName,
    tagByName: (name) => registry.tagByName(name)?.value,
    enumName: (tag, value) => registry.enumName(tag, value),
    enumValue,
    isMask: (tag) => registry.isMask(tag),
    maskNames: (tag, value) => registry.maskNames(tag, value),
    maskValue: (tag, names) => {
      if (!registry.isMask(tag)) return undefined;
      let value = 0;
      for (const name of names) {
        const bit = maskBit(tag, name);
        if (bit === undefined) return undefined;
        value = (value | bit) >>> 0;
      }
      return value;
    },
    attributeNameTag: registry.tagByName('AttributeName')?.value,
    attributeValueTag: registry.tagByName('AttributeValue')?.value,
    attributeTag: (attributeName) => registry.attributeTag(attributeName)?.value,
  };
}
