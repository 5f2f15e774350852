/**
 * The key layout of the level store (schema version 1). README.md in this folder repeats it.
 *
 *   m "schema"                               -> ASCII decimal schema version ("1"); checked at open
 *   m "seq"                                  -> ASCII decimal high-water mark of creation sequence numbers
 *   o <uid>                                  -> object record (codec.ts: format byte, seq, revision, fields, bytes)
 *   k <owner>                                -> KEK record (format byte + the caller's opaque bytes)
 *   c <seq:8>                                -> entry: every object, in creation order
 *   w <owner> FF <seq:8>                     -> entry: one owner's objects, in creation order
 *   a <field> <value> FF <seq:8>             -> entry: attribute index over all owners (an administrator's Locate)
 *   p <owner> FF <field> <value> FF <seq:8>  -> entry: attribute index of one owner (a tenant's Locate)
 *
 *   <field> is one byte: 't' object type, 's' state, 'n' name, 'a' algorithm, 'l' length (decimal text),
 *   'g' group, 'c' custom attribute, whose <value> is <name> FF <value>.
 *   An entry's value is (uid, owner) (codec.ts), so the owners filter needs no record read.
 *
 * <uid>, <owner> and <value> are UTF-8. <seq:8> is the object's creation sequence number, 8 bytes big-endian, so
 * one index range (a field and value, with or without an owner) lists objects oldest first. FF terminates a text
 * component: it never occurs in UTF-8, so no value's range can include another value's keys ("ab" is not inside
 * the range of "a"), and nothing needs escaping. Each object has one 'o', 'c' and 'w' key, and one 'a' and one 'p'
 * key per distinct (field, value) it has. Tenant queries read 'p' (or 'w') ranges of their owners and merge them by
 * seq; they never wade through other tenants' objects. The price is two entries per attribute value, written in
 * the same batch as the record (LevelDB's cost is mostly per batch, not per key).
 *
 * Keys are handled here as "byte strings" (one char per byte, latin1) so that the entries of two revisions can be
 * compared as plain strings; toBytes converts one for the database.
 */

/** A key as a byte string: every char code is one byte (0-255). */
export type KeyString = string & { readonly __keyString: unique symbol };

export const SCHEMA_KEY = 'mschema' as KeyString;
export const SEQ_KEY = 'mseq' as KeyString;

/** The prefixes of the key families (one byte each). */
export const Prefix = {
  meta: 'm',
  object: 'o',
  kek: 'k',
  created: 'c',
  owner: 'w',
  all: 'a',
  perOwner: 'p',
} as const;

/** The indexed attribute fields (the byte after the 'a' prefix, or after the owner in a 'p' key). */
export const Field = {
  objectType: 't',
  state: 's',
  name: 'n',
  algorithm: 'a',
  length: 'l',
  group: 'g',
  custom: 'c',
} as const;
export type Field = (typeof Field)[keyof typeof Field];

/** Terminates a text component; 0xFF never occurs in UTF-8. */
const END = '\xff';

/** UTF-8 bytes of a string, as a byte string. */
function utf8(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

/** 8-byte big-endian sequence number (seq < 2^53, so the high word fits in 21 bits). */
export function seqBytes(seq: number): string {
  const hi = Math.floor(seq / 0x1_0000_0000);
  const lo = seq % 0x1_0000_0000;
  return String.fromCharCode(
    (hi >>> 24) & 0xff,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    (lo >>> 24) & 0xff,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  );
}

/** The sequence number in the last 8 bytes of an index key ('c' or 'i'). */
export function seqOfKey(key: Uint8Array): number | undefined {
  if (key.length < 9) return undefined;
  const view = new DataView(key.buffer, key.byteOffset + key.length - 8, 8);
  const seq = view.getUint32(0) * 0x1_0000_0000 + view.getUint32(4);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

export const objectKey = (uid: string): KeyString => (Prefix.object + utf8(uid)) as KeyString;
export const kekKey = (owner: string): KeyString => (Prefix.kek + utf8(owner)) as KeyString;
export const createdKey = (seq: number): KeyString => (Prefix.created + seqBytes(seq)) as KeyString;

/**
 * The encoded (field, value) part of an attribute index key, FF-terminated. A custom pair is name FF value FF: the
 * inner FF keeps ("a", "bc") apart from ("ab", "c").
 */
export function attributePart(field: Field, value: string, customValue?: string): string {
  const head = field + utf8(value) + END;
  return customValue === undefined ? head : head + utf8(customValue) + END;
}

/** The prefix of one attribute value's entries over all owners, or within one owner's objects. */
export function attributePrefix(part: string, owner?: string): KeyString {
  return (owner === undefined ? Prefix.all + part : Prefix.perOwner + utf8(owner) + END + part) as KeyString;
}

/** The prefix of one owner's entries in creation order. */
export const ownerPrefix = (owner: string): KeyString => (Prefix.owner + utf8(owner) + END) as KeyString;

export const indexKey = (prefix: KeyString, seq: number): KeyString => (prefix + seqBytes(seq)) as KeyString;

/** The length index stores the decimal text of the number (lengths are safe integers, checked at commit). */
export const lengthText = (length: number): string => String(length);

export function toBytes(key: KeyString | string): Uint8Array {
  return Buffer.from(key, 'latin1');
}

/** A key range [prefix, prefix + FF): every key that starts with prefix and continues with a byte below FF. */
export function prefixRange(prefix: KeyString | string): { gte: Uint8Array; lt: Uint8Array } {
  return { gte: toBytes(prefix), lt: toBytes(prefix + END) };
}

/** A printable form of a key for error messages: ASCII as is, other bytes as \xNN. */
export function describeKey(key: Uint8Array | string): string {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'latin1') : key;
  let out = '';
  for (const byte of bytes) {
    out +=
      byte >= 0x20 && byte < 0x7f && byte !== 0x5c
        ? String.fromCharCode(byte)
        : `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
