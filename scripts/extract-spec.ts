/**
 * Extracts the KMIP vocabulary (tags with item types, enumerations, bit masks) from the plain-text OASIS
 * specifications in ../shared/kmip-spec and writes src/kmip/data/kmip-<version>.json as deltas: kmip-1.0.json is the
 * full base, every later file lists only what its version adds, removes, renames or retypes (2.0 relative to 1.4,
 * 2.1 relative to 2.0), so no tag number is written twice in the source of truth.
 *
 * The spec text has flattened tables: a line holding only "|" starts a row, every line ending in "|" closes a cell,
 * the rest of the row is its last cell, and a "Table N: caption" line closes the table. Item types are not in the tag
 * table (KMIP 1.4 §9.1.3.1, 2.1 §11.56); they come from the "Object/Item | Encoding" columns of the object, attribute
 * and message tables. Where the text of a version gives no type, the previous version's type is kept, and only then
 * the types the OASIS XML vectors use (../shared/kmip-vectors). Tags whose encoding the spec says "Varies" (or gives
 * several encodings) are recorded as "Varies", never guessed.
 *
 * Usage: tsx scripts/extract-spec.ts [--check]   (--check compares instead of writing, exit code 1 on a difference)
 */
import { readdirSync, readFileSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { normalizeName } from '../src/kmip/names.js';

export const versions = ['1.0', '1.1', '1.2', '1.3', '1.4', '2.0', '2.1'] as const;
export type Version = (typeof versions)[number];

/** Enumerations that the specification defines by reference instead of by a table (see the file's "about"). */
interface ByReference {
  readonly enumerations: readonly {
    readonly name: string;
    /** Text of the spec that makes the reference; the enumeration applies to versions whose text has it. */
    readonly reference: string;
    readonly source: string;
    readonly values: readonly (readonly [string, string])[];
  }[];
}
const byReference = JSON.parse(
  readFileSync(fileURLToPath(new URL('../src/kmip/data/by-reference.json', import.meta.url)), 'utf8'),
) as ByReference;

const specFiles: Record<Version, string> = {
  '1.0': 'kmip-spec-1.0-os.txt',
  '1.1': 'kmip-spec-v1.1-os.txt',
  '1.2': 'kmip-spec-v1.2-os.txt',
  '1.3': 'kmip-spec-v1.3-os.txt',
  '1.4': 'kmip-spec-v1.4-os.txt',
  '2.0': 'kmip-spec-v2.0-os.txt',
  '2.1': 'kmip-spec-v2.1-os.txt',
};

/** Item type names as the data files write them: the keys of ItemType in src/ttlv/types.ts, plus "Varies". */
export type TypeName =
  | 'Structure'
  | 'Integer'
  | 'LongInteger'
  | 'BigInteger'
  | 'Enumeration'
  | 'Boolean'
  | 'TextString'
  | 'ByteString'
  | 'DateTime'
  | 'Interval'
  | 'DateTimeExtended'
  | 'Varies';

// ---------------------------------------------------------------------------------------------------------------
// Data file shapes (also read by scripts/gen-registry.ts)

export interface TagEntry {
  /** Six hex digits as the spec writes them, "420001". */
  value: string;
  name: string;
  /** Absent when neither the spec nor the vectors give a type. */
  type?: TypeName;
  /** Name of the enumeration (or bit mask) whose values this tag carries, when it is not the tag's own name. */
  enum?: string;
  /** Where the type came from: "§3.24 Table 64", "vectors", or the section of the tag table when untyped. */
  source: string;
}

export interface EnumEntry {
  name: string;
  /** [name, eight hex digits] pairs, in spec order. */
  values: [string, string][];
  source: string;
}

export interface BaseFile {
  version: '1.0';
  spec: string;
  tags: TagEntry[];
  enumerations: EnumEntry[];
  masks: EnumEntry[];
}

export interface TagChange {
  /** The tag's name in the previous version (identifies it without repeating its number). */
  name: string;
  rename?: string;
  type?: TypeName | null;
  enum?: string | null;
  source?: string;
}

export interface EnumChange {
  name: string;
  add?: [string, string][];
  /** Names removed, as spelt in the previous version. */
  remove?: string[];
  /** [old name, new name] for values that keep their number. */
  rename?: [string, string][];
}

export interface DeltaSection<E, C> {
  add?: E[];
  remove?: string[];
  change?: C[];
}

export interface DeltaFile {
  version: Exclude<Version, '1.0'>;
  base: Version;
  spec: string;
  tags: DeltaSection<TagEntry, TagChange>;
  enumerations: DeltaSection<EnumEntry, EnumChange>;
  masks: DeltaSection<EnumEntry, EnumChange>;
}

export type DataFile = BaseFile | DeltaFile;

// ---------------------------------------------------------------------------------------------------------------
// Flattened table parser

interface Table {
  section: string;
  sectionTitle: string;
  caption: string;
  rows: string[][];
  line: number;
}

const captionText = (t: Table): string => t.caption.replace(/^Table \d+: /, '');

/** "§3.4 Table 61", the citation written into the data files. */
const cite = (t: Table): string => {
  const table = t.caption.replace(/:.*$/, '');
  // Appendix headings carry no section number ("Appendix C. Tag Cross-Reference"): cite the table by its caption.
  if (/cross-reference/i.test(t.caption)) return `${table} (${captionText(t)})`;
  return `§${t.section}${table === '' ? '' : ' ' + table}`;
};

interface Heading {
  num: string;
  title: string;
}

/** "9.1.3.2.13 Cryptographic Algorithm Enumeration"; table-of-contents lines end with a page number. */
const headingRe = /^(\d+(?:\.\d+)*) +([A-Z][^|]*)$/;
const captionRe = /^Table (\d+): (.*)$/;
const tocRe = /(\.|\s)\s*\d+\s*$/;

function isHeading(line: string): Heading | undefined {
  const m = headingRe.exec(line.trim());
  if (m === null || tocRe.test(line)) return undefined;
  const [, num = '', title = ''] = m;
  // Body headings have at most six levels and short titles; "12 December 2019" is a date in a table cell.
  if (
    num.split('.').length > 6 ||
    title.length > 120 ||
    /^(January|February|March|April|May|June|July|August|September|October|November|December)\b/.test(title)
  )
    return undefined;
  return { num, title: title.trim() };
}

const clean = (s: string): string =>
  s
    .replace(/[\u00a0\u2002-\u200b]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();

export function parseTables(text: string): { tables: Table[]; headings: Map<string, string> } {
  const lines = text.split(/\r?\n/);
  const tables: Table[] = [];
  const headings = new Map<string, string>();
  let section = '';
  let sectionTitle = '';
  let current: Table | undefined;
  let row: string[] | undefined;
  let cell: string[] = [];

  const closeCell = (): void => {
    if (row !== undefined) row.push(clean(cell.join(' ')));
    cell = [];
  };
  const closeRow = (): void => {
    if (row !== undefined) {
      if (cell.length > 0) closeCell();
      current?.rows.push(row);
    }
    row = undefined;
    cell = [];
  };
  const closeTable = (caption: string): void => {
    closeRow();
    if (current !== undefined) {
      current.caption = caption;
      tables.push(current);
    }
    current = undefined;
  };

  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const line = raw.replace(/[\u00a0]/g, ' ');
    const trimmed = line.trim();
    const caption = captionRe.exec(trimmed);
    if (current !== undefined) {
      if (caption !== null && !tocRe.test(trimmed)) {
        closeTable(`Table ${caption[1] ?? ''}: ${clean(caption[2] ?? '')}`);
        continue;
      }
      if (trimmed === '|') {
        closeRow();
        row = [];
        continue;
      }
      if (trimmed === '') {
        // A blank line inside a table is an empty cell or a page break; the table goes on if a row follows.
        let j = i + 1;
        while (j < lines.length && (lines[j] ?? '').trim() === '') j++;
        const next = (lines[j] ?? '').trim();
        if (next === '|') continue;
        const c = captionRe.exec(next);
        if (c !== null && !tocRe.test(next)) {
          closeTable(`Table ${c[1] ?? ''}: ${clean(c[2] ?? '')}`);
          i = j;
        } else closeTable('');
        continue;
      }
      const h = /^\d+(\.\d+)+ [A-Z][A-Za-z0-9#]/.test(trimmed) ? isHeading(trimmed) : undefined;
      if (h !== undefined) {
        closeTable('');
      } else {
        row ??= [];
        if (trimmed.endsWith('|')) {
          cell.push(trimmed.slice(0, -1));
          closeCell();
        } else cell.push(trimmed);
        continue;
      }
    }
    if (trimmed === '|') {
      current = { section, sectionTitle, caption: '', rows: [], line: i + 1 };
      row = [];
      continue;
    }
    if (caption !== null && !tocRe.test(trimmed)) {
      // A caption after prose: attach to the last table when nothing but blank lines came between.
      continue;
    }
    const h = isHeading(trimmed);
    if (h !== undefined) {
      section = h.num;
      sectionTitle = h.title;
      if (!headings.has(h.num)) headings.set(h.num, h.title);
    }
  }
  closeTable('');
  return { tables, headings };
}

// ---------------------------------------------------------------------------------------------------------------
// Vocabulary extraction for one version

export interface FullTag {
  value: number;
  name: string;
  type: TypeName | undefined;
  enumName: string | undefined;
  source: string;
  typeOrigin: 'spec' | 'inherited' | 'vectors' | 'none';
}

export interface FullEnum {
  name: string;
  values: [string, number][];
  source: string;
}

export interface FullVersion {
  version: Version;
  tags: FullTag[];
  enumerations: FullEnum[];
  masks: FullEnum[];
}

// KMIP 2.x tables sometimes drop the space ("ByteString", "TextString" in §7.27, §7.28).
const typeWords: [RegExp, TypeName][] = [
  [/^Date[- ]?Time Extended\b/i, 'DateTimeExtended'],
  [/^Date[- ]?Time\b/i, 'DateTime'],
  [/^Long ?Integer\b/i, 'LongInteger'],
  [/^Big ?Integer\b/i, 'BigInteger'],
  [/^Integer\b/i, 'Integer'],
  [/^Text ?String\b/i, 'TextString'],
  [/^Byte ?String\b/i, 'ByteString'],
  [/^Enumeration\b/i, 'Enumeration'],
  [/^Boolean\b/i, 'Boolean'],
  [/^Interval\b/i, 'Interval'],
  [/^Structure\b/i, 'Structure'],
];

/** Reads an Encoding cell: a type, "Varies"/several types, or nothing recognisable. */
function parseEncoding(
  cell: string,
): { type: TypeName; ref: string | undefined; named?: string | undefined } | undefined {
  const c = cell.trim();
  if (/^(Varies|Variable|Various)/i.test(c)) return { type: 'Varies', ref: undefined };
  for (const [re, t] of typeWords) {
    if (re.test(c)) {
      const rest = c.replace(re, '');
      // "Byte String or Structure", "Text String or Enumeration": more than one encoding.
      const alt = /^\s*(?:,|\/|\bor\b)\s*(?:or\s+)?/i;
      if (alt.test(rest) && typeWords.some(([r]) => r.test(rest.replace(alt, ''))))
        return { type: 'Varies', ref: undefined };
      const ref = /see (?:section )?(\d+(?:\.\d+)+)/i.exec(rest)?.[1];
      // KMIP 2.x names a shared enumeration in brackets: "Enumeration (Item Type)", "Enumeration (Tag)".
      const named = /^\s*\(([^)]+)\)/.exec(rest)?.[1];
      return { type: t, ref, named: named === undefined ? undefined : clean(named) };
    }
  }
  return undefined;
}

/** Normalises a name cell of an object table for matching against tag names. */
function nameKey(s: string): string {
  return s
    .replace(/\(.*?\)/g, ' ')
    .replace(/,? see .*$/i, '')
    .replace(/[*†]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

/** The enumeration or mask name of a section title: "Cryptographic Algorithm Enumeration" -> "Cryptographic Algorithm". */
function enumTitle(title: string): string {
  return clean(title.replace(/\s+Enumerations?\b.*$/i, ''));
}

const hex8 = /^(?:0x)?([0-9A-F]{1,8})$/i;

/**
 * Value names the plain-text specs garble, with the reason. Each applies wherever the garbled text occurs.
 * - Superscripts are lost in the text conversion: "GF (28)" is GF(2^8) (KMIP 1.4 §9.1.3.2.8; the XML vectors write
 *   PolynomialSharingGF2_8).
 * - KMIP 2.0 and 2.1 §11.30 print the Mask Generator value "MFG1"; KMIP 1.4 §9.1.3.2.49 and the vectors say MGF1
 *   (RFC 8017 B.2.1).
 */
const errata: readonly (readonly [garbled: RegExp, name: string])[] = [
  [/^Polynomial Sharing GF ?\(2(8|16)\)$/, 'Polynomial Sharing GF (2^$1)'],
  [/^MFG1$/, 'MGF1'],
];
const fixErrata = (name: string): string => {
  for (const [re, fixed] of errata) if (re.test(name)) return name.replace(re, fixed);
  return name;
};

function readNameValueTable(t: Table, warn: (m: string) => void, what: string): [string, number][] {
  const out: [string, number][] = [];
  for (const r of t.rows) {
    if (r.length < 2) continue;
    // KMIP 2.0 Table 402 prints "(PGP": an unbalanced bracket is a typesetting slip, not part of the name.
    const raw = clean(r[0] ?? '').replace(/^\(([^)]*)$/, '$1');
    const name = fixErrata(raw);
    // "00000002 (deprecated)": the value is the first token.
    const v = clean(r[r.length - 1] ?? '')
      .replace(/\s*\(.*\)$/, '')
      .replace(/\s/g, '');
    if (name === '' || /^name$/i.test(name)) continue;
    if (
      /^extensions?$/i.test(name) ||
      v.includes('X') ||
      /^\(?reserved\)?$/i.test(name) ||
      /^\(?unused\)?$/i.test(name)
    )
      continue;
    const m = hex8.exec(v);
    if (m === null) {
      if (!/^(value|description)$/i.test(v))
        warn(`${what}: cannot read row "${r.join(' | ')}" (line ${t.line})`);
      continue;
    }
    out.push([name, parseInt(m[1] ?? '', 16)]);
  }
  return out;
}

export function extractVersion(
  version: Version,
  text: string,
  previous: FullVersion | undefined,
  vectorTypes: ReadonlyMap<string, TypeName>,
  warn: (m: string) => void,
): FullVersion {
  const { tables } = parseTables(text);
  const major = version.startsWith('1.') ? 1 : 2;
  // KMIP 1.x keeps defined values in §9.1.3 (tags .1, enumerations .2, masks .3); KMIP 2.x in §11 and §12.
  const isEnumSection = (s: string): boolean =>
    major === 1 ? /^9\.1\.3\.2\.\d+$/.test(s) : /^11\.\d+$/.test(s);
  const isMaskSection = (s: string): boolean =>
    major === 1 ? /^9\.1\.3\.3\.\d+$/.test(s) : /^12\.\d+$/.test(s);
  const isTagTable = (t: Table): boolean =>
    major === 1
      ? t.section === '9.1.3.1'
      : /^Tag Enumeration$/i.test(t.sectionTitle) && /^11\.\d+$/.test(t.section);

  // Tags.
  const tags = new Map<number, FullTag>();
  let tagSection = '';
  for (const t of tables.filter(isTagTable)) {
    tagSection = cite(t);
    for (const r of t.rows) {
      if (r.length < 2) continue;
      const name = clean(r[0] ?? '');
      // "420014 (deprecated as of version 1.1)", "0x42016A": the value is the first hex token.
      const v = clean(r[1] ?? '')
        .replace(/^0x/i, '')
        .replace(/\s*\(.*\)$/, '');
      // KMIP 2.x lists the numbers of removed tags as "(Reserved)": they are not tags of that version.
      if (/^\(?reserved\)?$/i.test(name)) continue;
      if (!/^[0-9A-F]{6}$/i.test(v)) {
        if (!/^(tag value|value)$/i.test(v) && !/^\(?(unused|reserved)\)?$|^extensions$/i.test(name))
          warn(`${version}: tag row not understood: "${r.join(' | ')}" (line ${t.line})`);
        continue;
      }
      const value = parseInt(v, 16);
      if (tags.has(value)) warn(`${version}: tag ${v} listed twice`);
      tags.set(value, { value, name, type: undefined, enumName: undefined, source: '', typeOrigin: 'none' });
    }
  }
  if (tags.size === 0) warn(`${version}: no tag table found`);

  // Enumerations and masks, keyed by the section title.
  const enumerations = new Map<string, FullEnum>();
  const masks = new Map<string, FullEnum>();
  const enumBySection = new Map<string, string>();
  for (const t of tables) {
    const isEnum = isEnumSection(t.section) && !isTagTable(t);
    const isMask = isMaskSection(t.section);
    if (!isEnum && !isMask) continue;
    // Description tables (Name | Description) carry no hex values; only Name | Value tables define values.
    const header = t.rows.find((r) => r.length >= 2);
    if (header === undefined || !/^value$/i.test(clean(header[header.length - 1] ?? ''))) continue;
    const name = isMask ? clean(t.sectionTitle.replace(/\s+enumerations?$/i, '')) : enumTitle(t.sectionTitle);
    const values = readNameValueTable(t, warn, `${version} ${name}`);
    const target = isMask ? masks : enumerations;
    const existing = target.get(name);
    if (existing !== undefined) existing.values.push(...values);
    else target.set(name, { name, values, source: cite(t) });
    enumBySection.set(t.section, name);
  }

  // Enumerations the spec defines by reference to PKCS#11 (KMIP 2.0 §11.38, §11.39): taken from
  // src/kmip/data/by-reference.json when this version's text makes the reference and lists no values itself.
  for (const e of byReference.enumerations) {
    if (!enumerations.has(e.name) && text.includes(e.reference)) {
      enumerations.set(e.name, {
        name: e.name,
        values: e.values.map(([n, v]): [string, number] => [n, Number.parseInt(v, 16)]),
        source: e.source,
      });
    }
  }

  // Item types from every table with an Encoding column.
  const tagByKey = new Map<string, FullTag>();
  for (const tag of tags.values()) tagByKey.set(nameKey(tag.name), tag);
  interface Evidence {
    types: Set<TypeName>;
    refs: Set<string>;
    named: Set<string>;
    source: string;
  }
  // The 1.x appendix "Tag Cross-reference" also has a Type column; it is informative and has errata (KMIP 1.4
  // Table 368 gives MAC/Signature Key Information as Text String, the body §2.1.5 a Structure), so it only counts
  // for tags that no normative table types.
  const evidence = new Map<FullTag, Evidence>();
  const appendixEvidence = new Map<FullTag, Evidence>();
  for (const t of tables) {
    const target = /cross-reference/i.test(captionText(t)) ? appendixEvidence : evidence;
    let encCol = -1;
    const found: [FullTag, NonNullable<ReturnType<typeof parseEncoding>>, boolean][] = [];
    for (const r of t.rows) {
      const idx = r.findIndex((c) => /^(encoding|type|item type)$/i.test(c));
      if (idx > 0 && /^(object|item|field|tag|name|attribute)/i.test(r[0] ?? '')) {
        encCol = idx;
        continue;
      }
      if (encCol < 0 || r.length <= encCol) continue;
      const tag = tagByKey.get(nameKey(r[0] ?? ''));
      const enc = parseEncoding(r[encCol] ?? '');
      if (tag === undefined || enc === undefined) continue;
      found.push([tag, enc, found.length === 0]);
    }
    // KMIP 2.x §7.26-§7.29 head a one-field table with the field's own name as a "Structure" row (PKCS#11 Function:
    // Structure, then PKCS#11 Function: Enumeration): the heading row is not the tag's encoding when the name repeats.
    const head = found[0];
    // (Only two-row tables: KMIP 2.1 Table 161 lists Attribute Reference as a Structure of Vendor Identification and
    // Attribute Name, or an Enumeration (Tag) — two real encodings.)
    if (found.length === 2 && head?.[1].type === 'Structure' && found[1]?.[0] === head[0]) found.shift();
    for (const [tag, enc] of found) {
      let ev = target.get(tag);
      if (ev === undefined) {
        ev = { types: new Set(), refs: new Set(), named: new Set(), source: cite(t) };
        target.set(tag, ev);
      }
      ev.types.add(enc.type);
      if (enc.ref !== undefined) ev.refs.add(enc.ref);
      if (enc.named !== undefined) ev.named.add(enc.named);
    }
  }

  const prevByValue = new Map<number, FullTag>();
  for (const p of previous?.tags ?? []) prevByValue.set(p.value, p);
  const enumNames = new Set([...enumerations.keys(), ...masks.keys()]);

  for (const tag of tags.values()) {
    const ev = evidence.get(tag) ?? appendixEvidence.get(tag);
    const prev = prevByValue.get(tag.value);
    const samePrev = prev !== undefined && nameKey(prev.name) === nameKey(tag.name) ? prev : undefined;
    if (ev !== undefined) {
      const concrete = [...ev.types].filter((x) => x !== 'Varies');
      if (ev.types.has('Varies') || concrete.length !== 1) {
        if (concrete.length > 1 && !ev.types.has('Varies'))
          warn(`${version}: ${tag.name} has several encodings (${concrete.join(', ')}): recorded as Varies`);
        tag.type = 'Varies';
      } else tag.type = concrete[0];
      tag.source = ev.source;
      tag.typeOrigin = 'spec';
      // A bracketed name wins ("Enumeration (Item Type)"); "Tag" is the tag table itself (KMIP 2.1 §11.56).
      for (const n of ev.named) if (n === 'Tag' || enumerations.has(n)) tag.enumName = n;
      // 1.x encodings cite the enumeration's section ("Enumeration, see 9.1.3.2.13"); some citations are stale
      // (KMIP 1.1 Split Key Method cites 9.1.3.2.7, which became Digital Signature Algorithm), so an enumeration
      // with the tag's own name is preferred and a citation only decides when there is none.
      if (tag.enumName === undefined && tag.type === 'Enumeration' && !enumerations.has(tag.name)) {
        for (const ref of ev.refs) {
          const e = enumBySection.get(ref);
          if (e !== undefined) tag.enumName = e;
        }
      }
    } else if (samePrev?.type !== undefined) {
      tag.type = samePrev.type;
      tag.source = samePrev.source;
      tag.typeOrigin = samePrev.typeOrigin === 'vectors' ? 'vectors' : 'inherited';
    } else if (enumerations.has(tag.name) || masks.has(tag.name)) {
      // No encoding table, but the spec defines an enumeration (or bit mask) of the tag's own name, e.g. KMIP 2.0
      // Adjustment Type (§11.1): the tag carries that enumeration (masks are Integers, KMIP 2.0 §12).
      const e = enumerations.get(tag.name) ?? masks.get(tag.name);
      tag.type = enumerations.has(tag.name) ? 'Enumeration' : 'Integer';
      tag.source = e?.source ?? tagSection;
      tag.typeOrigin = 'spec';
    } else {
      const vt = vectorTypes.get(normalizeName(tag.name));
      if (vt !== undefined) {
        tag.type = vt;
        tag.source = 'vectors';
        tag.typeOrigin = 'vectors';
      } else tag.source = tagSection;
    }
    if (
      tag.type === 'Enumeration' ||
      tag.type === 'Varies' ||
      (tag.type === 'Integer' && masks.has(tag.name))
    ) {
      if (tag.enumName === undefined && samePrev?.enumName !== undefined && enumNames.has(samePrev.enumName))
        tag.enumName = samePrev.enumName;
      if (tag.enumName === undefined) {
        const own = [...enumNames].find((n) => nameKey(n) === nameKey(tag.name));
        if (own !== undefined) tag.enumName = own;
      }
      if (tag.enumName === undefined && tag.type === 'Enumeration')
        warn(`${version}: no enumeration found for Enumeration tag ${tag.name}`);
    }
  }

  return {
    version,
    tags: [...tags.values()].sort((a, b) => a.value - b.value),
    enumerations: [...enumerations.values()],
    masks: [...masks.values()],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Vector fallback: the item types the OASIS XML vectors write for each element name

export function vectorVersionOf(relPath: string): Version | '3.0' | undefined {
  const folder = relPath.split(/[\\/]/)[0] ?? '';
  if (folder === 'profiles-v1.0') {
    const m = /-1([012])\.xml$/.exec(relPath);
    return m === null ? undefined : (`1.${m[1] ?? ''}` as Version);
  }
  const v = /-v(\d\.\d)$/.exec(folder)?.[1];
  return v === undefined ? undefined : (v as Version | '3.0');
}

export function listXml(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`;
    if (e.isDirectory()) out.push(...listXml(path.join(dir, e.name), rel));
    else if (e.name.endsWith('.xml')) out.push(rel);
  }
  return out;
}

const xmlTypeNames: Record<string, TypeName> = {
  Structure: 'Structure',
  Integer: 'Integer',
  LongInteger: 'LongInteger',
  BigInteger: 'BigInteger',
  Enumeration: 'Enumeration',
  Boolean: 'Boolean',
  TextString: 'TextString',
  ByteString: 'ByteString',
  DateTime: 'DateTime',
  Interval: 'Interval',
  DateTimeExtended: 'DateTimeExtended',
};

/** Element name -> the one type every spec-version vector (not the 3.0 draft) gives it; names used with two types are left out. */
export function readVectorTypes(vectorsDir: string): Map<string, TypeName> {
  const seen = new Map<string, Set<TypeName>>();
  if (!existsSync(vectorsDir)) return new Map();
  for (const rel of listXml(vectorsDir)) {
    const v = vectorVersionOf(rel);
    if (v === undefined || v === '3.0') continue;
    const text = readFileSync(path.join(vectorsDir, rel), 'utf8');
    // Opening tags: <Name type="X" .../> is a primitive, <Name> with children a Structure.
    for (const m of text.matchAll(/<([A-Za-z_][\w]*)((?:\s+[\w:]+="[^"]*")*)\s*(\/?)>/g)) {
      const el = m[1] ?? '';
      const attrs = m[2] ?? '';
      const type = /\stype="([^"]*)"/.exec(attrs)?.[1];
      let t: TypeName | undefined;
      if (type !== undefined) t = xmlTypeNames[type];
      else if (m[3] !== '/') t = 'Structure';
      if (t === undefined) continue;
      let s = seen.get(el);
      if (s === undefined) seen.set(el, (s = new Set()));
      s.add(t);
    }
  }
  const out = new Map<string, TypeName>();
  for (const [k, s] of seen) if (s.size === 1) out.set(k, [...s][0] ?? 'Varies');
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Deltas

const hex = (n: number, width: number): string => n.toString(16).toUpperCase().padStart(width, '0');

function tagEntry(t: FullTag): TagEntry {
  const e: TagEntry = { value: hex(t.value, 6), name: t.name, source: '' };
  if (t.type !== undefined) e.type = t.type;
  if (t.enumName !== undefined && t.enumName !== t.name) e.enum = t.enumName;
  // Written last so that the entry reads value, name, type, enumeration, citation.
  delete (e as Partial<TagEntry>).source;
  e.source = t.source;
  return e;
}

const enumEntry = (e: FullEnum): EnumEntry => ({
  name: e.name,
  values: e.values.map(([n, v]) => [n, hex(v, 8)]),
  source: e.source,
});

function enumDelta(prev: FullEnum[], cur: FullEnum[]): DeltaSection<EnumEntry, EnumChange> {
  const out: DeltaSection<EnumEntry, EnumChange> = {};
  const p = new Map(prev.map((e) => [e.name, e]));
  const c = new Map(cur.map((e) => [e.name, e]));
  const add = cur.filter((e) => !p.has(e.name)).map(enumEntry);
  const remove = prev.filter((e) => !c.has(e.name)).map((e) => e.name);
  const change: EnumChange[] = [];
  for (const e of cur) {
    const old = p.get(e.name);
    if (old === undefined) continue;
    const oldByValue = new Map(old.values.map(([n, v]) => [v, n]));
    const newByValue = new Map(e.values.map(([n, v]) => [v, n]));
    const ch: EnumChange = { name: e.name };
    const a = e.values
      .filter(([, v]) => !oldByValue.has(v))
      .map(([n, v]): [string, string] => [n, hex(v, 8)]);
    const r = old.values.filter(([, v]) => !newByValue.has(v)).map(([n]) => n);
    const rn = e.values
      .filter(([n, v]) => oldByValue.has(v) && oldByValue.get(v) !== n)
      .map(([n, v]): [string, string] => [oldByValue.get(v) ?? '', n]);
    if (a.length > 0) ch.add = a;
    if (r.length > 0) ch.remove = r;
    if (rn.length > 0) ch.rename = rn;
    if (a.length + r.length + rn.length > 0) change.push(ch);
  }
  if (add.length > 0) out.add = add;
  if (remove.length > 0) out.remove = remove;
  if (change.length > 0) out.change = change;
  return out;
}

export function toDataFiles(full: FullVersion[]): Map<Version, DataFile> {
  const out = new Map<Version, DataFile>();
  let prev: FullVersion | undefined;
  for (const f of full) {
    if (prev === undefined) {
      out.set(f.version, {
        version: '1.0',
        spec: specFiles['1.0'],
        tags: f.tags.map(tagEntry),
        enumerations: f.enumerations.map(enumEntry),
        masks: f.masks.map(enumEntry),
      });
    } else {
      const prevByValue = new Map(prev.tags.map((t) => [t.value, t]));
      const curValues = new Set(f.tags.map((t) => t.value));
      const tags: DeltaSection<TagEntry, TagChange> = {};
      const add = f.tags.filter((t) => !prevByValue.has(t.value)).map(tagEntry);
      const remove = prev.tags.filter((t) => !curValues.has(t.value)).map((t) => t.name);
      const change: TagChange[] = [];
      for (const t of f.tags) {
        const o = prevByValue.get(t.value);
        if (o === undefined) continue;
        const ch: TagChange = { name: o.name };
        if (o.name !== t.name) ch.rename = t.name;
        if (o.type !== t.type) ch.type = t.type ?? null;
        const oe = o.enumName === o.name ? undefined : o.enumName;
        const ne = t.enumName === t.name ? undefined : t.enumName;
        if (oe !== ne) ch.enum = ne ?? null;
        if (ch.type !== undefined) ch.source = t.source;
        if (Object.keys(ch).length > 1) change.push(ch);
      }
      if (add.length > 0) tags.add = add;
      if (remove.length > 0) tags.remove = remove;
      if (change.length > 0) tags.change = change;
      out.set(f.version, {
        version: f.version as Exclude<Version, '1.0'>,
        base: prev.version,
        spec: specFiles[f.version],
        tags,
        enumerations: enumDelta(prev.enumerations, f.enumerations),
        masks: enumDelta(prev.masks, f.masks),
      });
    }
    prev = f;
  }
  return out;
}

export interface ExtractResult {
  full: FullVersion[];
  files: Map<Version, DataFile>;
  warnings: string[];
}

export function extractAll(specDir: string, vectorsDir: string): ExtractResult {
  const warnings: string[] = [];
  const vectorTypes = readVectorTypes(vectorsDir);
  const full: FullVersion[] = [];
  let prev: FullVersion | undefined;
  for (const v of versions) {
    const text = readFileSync(path.join(specDir, specFiles[v]), 'utf8');
    const f = extractVersion(v, text, prev, vectorTypes, (m) => warnings.push(m));
    full.push(f);
    prev = f;
  }
  return { full, files: toDataFiles(full), warnings };
}

/**
 * The JSON text of a data file exactly as committed: two-space indentation, and every tag entry, enumeration value
 * and flat object on one line, so that the files stay short and a diff shows one line per changed entry.
 */
export function formatDataFile(d: DataFile): string {
  const isFlat = (v: unknown): boolean =>
    Array.isArray(v)
      ? v.every((x) => typeof x !== 'object' || x === null)
      : typeof v === 'object' &&
        v !== null &&
        Object.values(v).every((x) => typeof x !== 'object' || x === null);
  const fmt = (v: unknown, indent: string): string => {
    if (typeof v !== 'object' || v === null) return JSON.stringify(v);
    const inner = indent + '  ';
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      if (isFlat(v)) return `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
      return `[\n${v.map((x) => inner + fmt(x, inner)).join(',\n')}\n${indent}]`;
    }
    const entries = Object.entries(v);
    if (entries.length === 0) return '{}';
    if (isFlat(v))
      return `{ ${entries.map(([k, x]) => `${JSON.stringify(k)}: ${JSON.stringify(x)}`).join(', ')} }`;
    return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${fmt(x, inner)}`).join(',\n')}\n${indent}}`;
  };
  return fmt(d, '') + '\n';
}

export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const dataDir = path.join(projectRoot, 'src/kmip/data');
export const dataFileName = (v: Version): string => `kmip-${v}.json`;

function main(): void {
  const specDir = path.resolve(projectRoot, '../shared/kmip-spec');
  const vectorsDir = path.resolve(projectRoot, '../shared/kmip-vectors');
  const { full, files, warnings } = extractAll(specDir, vectorsDir);
  for (const w of warnings) console.warn(`warning: ${w}`);
  const check = process.argv.includes('--check');
  let differ = false;
  mkdirSync(dataDir, { recursive: true });
  for (const [v, d] of files) {
    const file = path.join(dataDir, dataFileName(v));
    const text = formatDataFile(d);
    if (check) {
      if (!existsSync(file) || readFileSync(file, 'utf8') !== text) {
        console.error(`${file} differs from the extraction`);
        differ = true;
      }
    } else writeFileSync(file, text);
  }
  for (const f of full) {
    const count = (o: FullTag['typeOrigin']): number => f.tags.filter((t) => t.typeOrigin === o).length;
    console.log(
      `${f.version}: ${f.tags.length} tags (types: ${count('spec')} from spec text, ${count('inherited')} kept from the previous version, ` +
        `${count('vectors')} from vectors, ${count('none')} unknown; ${f.tags.filter((t) => t.type === 'Varies').length} Varies), ` +
        `${f.enumerations.length} enumerations, ${f.masks.length} masks`,
    );
  }
  if (differ) process.exitCode = 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) main();
