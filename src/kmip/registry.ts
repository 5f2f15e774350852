/**
 * The KMIP vocabulary of one protocol version: tags (number, spec name, KMIP XML name, item type), enumerations and
 * bit masks, for KMIP 1.0, 1.1, 1.2, 1.3, 1.4, 2.0 and 2.1.
 *
 * The data is generated from the specifications (scripts/extract-spec.ts -> src/kmip/data -> src/kmip/generated.ts)
 * as KMIP 1.0 in full plus one delta per later version; a registry materialises its version's tables on first use
 * and is cached. Every lookup is a Map access.
 */
import { ItemType } from '../ttlv/types.js';
import type { TagNamer } from '../ttlv/types.js';
import type { BaseData, DeltaData, EnumValue, KmipVersion, TypeName } from './data-types.js';
import { kmipData } from './generated.js';
import { normalizeName } from './names.js';

export type { KmipVersion } from './data-types.js';
export { normalizeName } from './names.js';

export const kmipVersions: readonly KmipVersion[] = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1'];

export interface TagInfo {
  readonly value: number;
  /** The spec's spelling, "Cryptographic Algorithm". */
  readonly name: string;
  /** The KMIP XML/JSON form (KMIP Profiles §5.4.1.1), "CryptographicAlgorithm", "X_509CertificateIdentifier". */
  readonly xmlName: string;
  /** Undefined when the encoding varies (Attribute Value, Key Material ...) or the spec gives none. */
  readonly type: ItemType | undefined;
  /** True when the spec gives this tag several encodings ("Varies", "Byte String or Structure"). */
  readonly variable: boolean;
  /** The enumeration or bit mask whose names the tag's values take, if any. */
  readonly enumeration: string | undefined;
}

export interface KmipRegistry {
  readonly version: KmipVersion;
  tag(value: number): TagInfo | undefined;
  /** Accepts the KMIP XML form ("CryptographicAlgorithm") and the spec form ("Cryptographic Algorithm"). */
  tagByName(name: string): TagInfo | undefined;
  /** Every tag of this version, in tag order. */
  tags(): readonly TagInfo[];
  /** Value -> KMIP XML name ("AES") of the enumeration the tag carries. */
  enumNames(tag: number): ReadonlyMap<number, string> | undefined;
  /** Accepts the KMIP XML form ("SHA_256") and the spec form ("SHA-256"). */
  enumValue(tag: number, name: string): number | undefined;
  enumName(tag: number, value: number): string | undefined;
  isMask(tag: number): boolean;
  /** The names of the set bits, lowest first; undefined when a set bit has no name in this version. */
  maskNames(tag: number, value: number): string[] | undefined;
  /** The OR of the named bits; undefined when a name is unknown. */
  maskValue(tag: number, names: readonly string[]): number | undefined;
  /**
   * The tag whose type, enumeration or mask applies to the Attribute Value of a KMIP 1.x Attribute with this
   * Attribute Name (KMIP 1.4 §2.1.1, names as in §3); custom attributes ("x-...", "y-...") have none.
   */
  attributeTag(attributeName: string): TagInfo | undefined;
  tagNamer(): TagNamer;
}

/** Whether `version` is `minimum` or later (an operation or tag introduced in `minimum` exists in it). */
export function versionAtLeast(version: KmipVersion, minimum: KmipVersion): boolean {
  return kmipVersions.indexOf(version) >= kmipVersions.indexOf(minimum);
}

const versionByNumber = new Map<string, KmipVersion>(kmipVersions.map((v) => [v, v]));

/** The KMIP version of a Protocol Version (major, minor), or undefined when this server does not know it. */
export function versionOf(major: number, minor: number): KmipVersion | undefined {
  return versionByNumber.get(`${major}.${minor}`);
}

// ---------------------------------------------------------------------------------------------------------------
// Materialising a version from the base and its deltas

interface TagDef {
  value: number;
  name: string;
  type: TypeName | null;
  enumName: string | undefined;
}

interface Tables {
  tags: Map<number, TagDef>;
  enumerations: Map<string, EnumValue[]>;
  masks: Map<string, EnumValue[]>;
}

const tablesCache = new Map<KmipVersion, Tables>();

function fromBase(base: BaseData): Tables {
  const tags = new Map<number, TagDef>();
  for (const row of base.tags)
    tags.set(row[0], { value: row[0], name: row[1], type: row[2], enumName: row[3] });
  return {
    tags,
    enumerations: new Map(base.enumerations.map((e) => [e.name, [...e.values]])),
    masks: new Map(base.masks.map((e) => [e.name, [...e.values]])),
  };
}

function applyEnumDelta(target: Map<string, EnumValue[]>, delta: DeltaData['enumerations']): void {
  for (const name of delta.remove ?? []) target.delete(name);
  for (const e of delta.add ?? []) target.set(e.name, [...e.values]);
  for (const c of delta.change ?? []) {
    const removed = new Set(c.remove ?? []);
    const renamed = new Map(c.rename ?? []);
    const values = (target.get(c.name) ?? [])
      .filter(([n]) => !removed.has(n))
      .map(([n, v]): EnumValue => [renamed.get(n) ?? n, v]);
    values.push(...(c.add ?? []));
    target.set(
      c.name,
      values.sort((a, b) => a[1] - b[1]),
    );
  }
}

function applyDelta(prev: Tables, delta: DeltaData): Tables {
  const tags = new Map<number, TagDef>();
  const byName = new Map<string, TagDef>();
  for (const t of prev.tags.values()) {
    const copy = { ...t };
    tags.set(copy.value, copy);
    byName.set(copy.name, copy);
  }
  for (const name of delta.tags.remove ?? []) {
    const t = byName.get(name);
    if (t !== undefined) tags.delete(t.value);
  }
  for (const c of delta.tags.change ?? []) {
    const t = byName.get(c.name);
    if (t === undefined) continue;
    if (c.rename !== undefined) t.name = c.rename;
    if (c.type !== undefined) t.type = c.type;
    if (c.enum !== undefined) t.enumName = c.enum ?? undefined;
  }
  for (const row of delta.tags.add ?? [])
    tags.set(row[0], { value: row[0], name: row[1], type: row[2], enumName: row[3] });
  const next: Tables = { tags, enumerations: new Map(prev.enumerations), masks: new Map(prev.masks) };
  applyEnumDelta(next.enumerations, delta.enumerations);
  applyEnumDelta(next.masks, delta.masks);
  return next;
}

function tablesFor(version: KmipVersion): Tables {
  const cached = tablesCache.get(version);
  if (cached !== undefined) return cached;
  let tables: Tables;
  if (version === '1.0') tables = fromBase(kmipData['1.0']);
  else {
    const delta: DeltaData = kmipData[version];
    tables = applyDelta(tablesFor(delta.base), delta);
  }
  tablesCache.set(version, tables);
  return tables;
}

// ---------------------------------------------------------------------------------------------------------------
// The registry

/** The enumeration whose values are the tags themselves (KMIP 2.1 §11.56), carried by Attribute Reference. */
const tagEnumeration = 'Tag';

interface NamedValues {
  /** value -> KMIP XML name */
  readonly names: ReadonlyMap<number, string>;
  /** KMIP XML name and spec name -> value */
  readonly values: ReadonlyMap<string, number>;
  /** Mask bits in ascending order. */
  readonly bits: readonly number[];
}

function namedValues(entries: readonly EnumValue[]): NamedValues {
  const names = new Map<number, string>();
  const values = new Map<string, number>();
  for (const [name, value] of entries) {
    const xml = normalizeName(name);
    if (!names.has(value)) names.set(value, xml);
    values.set(xml, value);
    values.set(name, value);
  }
  // Accepted on input only: a name without its trailing bracketed qualifier, as other versions and the test cases
  // write it ("SHA-256 with RSA Encryption (PKCS#1 v1.5)" read as "SHA_256WithRSAEncryption", "Content Commitment
  // (Non Repudiation)" as "ContentCommitment"), unless that shorter name belongs to another value.
  for (const [name, value] of entries) {
    const short = name.replace(/\s*\([^)]*\)\s*$/, '');
    if (short !== name && short !== '') {
      const alias = normalizeName(short);
      if (!values.has(alias)) values.set(alias, value);
    }
  }
  return { names, values, bits: [...names.keys()].sort((a, b) => a - b) };
}

class Registry implements KmipRegistry {
  readonly version: KmipVersion;
  readonly #byValue = new Map<number, TagInfo>();
  readonly #byName = new Map<string, TagInfo>();
  readonly #sorted: TagInfo[];
  readonly #tables: Tables;
  readonly #named = new Map<string, NamedValues>();
  readonly #namer: TagNamer;

  constructor(version: KmipVersion) {
    this.version = version;
    this.#tables = tablesFor(version);
    for (const t of this.#tables.tags.values()) {
      const info: TagInfo = {
        value: t.value,
        name: t.name,
        xmlName: normalizeName(t.name),
        type: t.type === null || t.type === 'Varies' ? undefined : ItemType[t.type],
        variable: t.type === 'Varies',
        enumeration: t.enumName ?? this.#ownEnumeration(t),
      };
      this.#byValue.set(info.value, info);
      this.#byName.set(info.xmlName, info);
      this.#byName.set(info.name, info);
    }
    this.#sorted = [...this.#byValue.values()].sort((a, b) => a.value - b.value);
    this.#namer = { tagName: (tag) => this.#byValue.get(tag)?.xmlName };
  }

  /** A tag carries the enumeration or mask of its own name (KMIP 1.4 §9.1.3.2, 2.1 §11, §12). */
  #ownEnumeration(t: TagDef): string | undefined {
    if (t.type === 'Enumeration' || t.type === 'Varies')
      return this.#tables.enumerations.has(t.name) ? t.name : undefined;
    if (t.type === 'Integer') return this.#tables.masks.has(t.name) ? t.name : undefined;
    return undefined;
  }

  #values(tag: number): NamedValues | undefined {
    const name = this.#byValue.get(tag)?.enumeration;
    if (name === undefined) return undefined;
    let nv = this.#named.get(name);
    if (nv === undefined) {
      const entries =
        name === tagEnumeration
          ? this.#sorted.map((t): EnumValue => [t.name, t.value])
          : (this.#tables.enumerations.get(name) ?? this.#tables.masks.get(name));
      if (entries === undefined) return undefined;
      nv = namedValues(entries);
      this.#named.set(name, nv);
    }
    return nv;
  }

  tag(value: number): TagInfo | undefined {
    return this.#byValue.get(value);
  }

  tagByName(name: string): TagInfo | undefined {
    return this.#byName.get(name) ?? this.#byName.get(normalizeName(name));
  }

  tags(): readonly TagInfo[] {
    return this.#sorted;
  }

  enumNames(tag: number): ReadonlyMap<number, string> | undefined {
    return this.#values(tag)?.names;
  }

  enumValue(tag: number, name: string): number | undefined {
    const nv = this.#values(tag);
    return nv?.values.get(name) ?? nv?.values.get(normalizeName(name));
  }

  enumName(tag: number, value: number): string | undefined {
    return this.#values(tag)?.names.get(value);
  }

  isMask(tag: number): boolean {
    const name = this.#byValue.get(tag)?.enumeration;
    return name !== undefined && this.#tables.masks.has(name);
  }

  maskNames(tag: number, value: number): string[] | undefined {
    if (!this.isMask(tag)) return undefined;
    const nv = this.#values(tag);
    if (nv === undefined) return undefined;
    const out: string[] = [];
    let rest = value >>> 0;
    for (const bit of nv.bits) {
      if ((rest & bit) !== 0) {
        const n = nv.names.get(bit);
        if (n !== undefined) out.push(n);
        rest = (rest & ~bit) >>> 0;
      }
    }
    return rest === 0 ? out : undefined;
  }

  maskValue(tag: number, names: readonly string[]): number | undefined {
    if (!this.isMask(tag)) return undefined;
    const nv = this.#values(tag);
    if (nv === undefined) return undefined;
    let value = 0;
    for (const name of names) {
      const bit = nv.values.get(name) ?? nv.values.get(normalizeName(name));
      if (bit === undefined) return undefined;
      value = (value | bit) >>> 0;
    }
    return value;
  }

  attributeTag(attributeName: string): TagInfo | undefined {
    // KMIP 1.4 §3.41 Custom Attribute: names starting "x-" (client) or "y-" (server) are not in the vocabulary.
    if (/^[xy]-/i.test(attributeName)) return undefined;
    return this.tagByName(attributeName);
  }

  tagNamer(): TagNamer {
    return this.#namer;
  }
}

const registries = new Map<KmipVersion, KmipRegistry>();

/** The registry of a KMIP version; built on first use and cached. */
export function registryFor(version: KmipVersion): KmipRegistry {
  let r = registries.get(version);
  if (r === undefined) {
    r = new Registry(version);
    registries.set(version, r);
  }
  return r;
}
