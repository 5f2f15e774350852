import { kmipVersions, registryFor, type KmipVersion } from './registry.js';

/**
 * Tag numbers and enumeration values by their KMIP XML names, across every version. A tag keeps its number in every
 * version that has it (the registry data is written that way), so one table serves all versions; whether a version
 * HAS a tag is the registry's question (`registryFor(v).tag(n)`). Code names tags through `tag('UniqueIdentifier')`
 * and never spells a tag number.
 */
const tagNumbers = new Map<string, number>();
for (const version of [...kmipVersions].reverse()) {
  for (const info of registryFor(version).tags()) {
    if (!tagNumbers.has(info.xmlName)) tagNumbers.set(info.xmlName, info.value);
  }
}

/** The number of a tag by its KMIP XML name; throws at startup for a name no version defines (a programming error). */
export function tag(name: string): number {
  const value = tagNumbers.get(name);
  if (value === undefined) throw new Error(`no KMIP version defines a tag named ${name}`);
  return value;
}

/** Several tags at once, as a record: `const T = tags('UniqueIdentifier', 'ObjectType')`. */
export function tags<const N extends string>(...names: N[]): Readonly<Record<N, number>> {
  return Object.fromEntries(names.map((name) => [name, tag(name)])) as Record<N, number>;
}

/**
 * The value of an enumeration name for a tag, in the newest version that defines it (values are stable across
 * versions; names occasionally change spelling). Throws for an unknown name: a programming error.
 */
export function enumValue(tagName: string, valueName: string): number {
  const t = tag(tagName);
  for (const version of [...kmipVersions].reverse()) {
    const value = registryFor(version).enumValue(t, valueName);
    if (value !== undefined) return value;
  }
  throw new Error(`no KMIP version defines ${tagName} ${valueName}`);
}

/** Several values of one enumeration: `const ObjectType = enumValues('ObjectType', 'SymmetricKey', ...)`. */
export function enumValues<const N extends string>(
  tagName: string,
  ...names: N[]
): Readonly<Record<N, number>> {
  return Object.fromEntries(names.map((name) => [name, enumValue(tagName, name)])) as Record<N, number>;
}

/** The normalized name of an enumeration value in a version ("SymmetricKey"), or 0x-hex when it has none. */
export function enumName(version: KmipVersion, tagValue: number, value: number): string {
  return registryFor(version).enumName(tagValue, value) ?? `0x${value.toString(16).padStart(8, '0')}`;
}

/** Whether a version defines a tag: responses never carry a tag their version lacks (DESIGN.md "Versions"). */
export function versionHasTag(version: KmipVersion, tagValue: number): boolean {
  return registryFor(version).tag(tagValue) !== undefined;
}
