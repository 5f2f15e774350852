/**
 * A tiny TTLV byte builder for expected bytes, written from KMIP 1.4 §9.1.1 and KMIP 2.1 §10.1 and sharing no code
 * with src/ttlv/encode.ts (pg-protocol's testing/buffer-list.ts plays the same part there). Each call returns the
 * bytes, the JSON form of the item (test/support/tree-json.ts) and pipe-annotated hex lines in the spec's style:
 *
 *   42 00 20 | 02 | 00 00 00 04 | 00 00 00 08 00 00 00 00
 *
 * Rules it implements: 3-byte big-endian tag, 1-byte type, 4-byte big-endian length of the value without padding
 * (Structure: with its children's padding), value padded with zeros to a multiple of 8 (§9.1.1.3); Big Integers
 * sign-extended on the left to a multiple of 8, the extension counted in the length (§9.1.1.4).
 */
import { tagText, typeCodes, type JsonItem, type TypeName } from './tree-json.js';

export interface Built {
  readonly bytes: Uint8Array;
  readonly json: JsonItem;
  /** Annotated hex, one item per line, children indented. */
  readonly lines: readonly string[];
}

export function concat(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** An 8-byte item header, any values (also for building malformed input). */
export function header(tag: number, type: number, length: number): Uint8Array {
  return Uint8Array.of(
    (tag >>> 16) & 0xff,
    (tag >>> 8) & 0xff,
    tag & 0xff,
    type & 0xff,
    (length >>> 24) & 0xff,
    (length >>> 16) & 0xff,
    (length >>> 8) & 0xff,
    length & 0xff,
  );
}

function spaced(bytes: Uint8Array): string {
  return Array.from(bytes, (x) => x.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

function annotate(head: Uint8Array, value: Uint8Array | undefined, note: string | undefined): string {
  const parts = [spaced(head.subarray(0, 3)), spaced(head.subarray(3, 4)), spaced(head.subarray(4, 8))];
  if (value !== undefined && value.length > 0) parts.push(spaced(value));
  return parts.join(' | ') + (note === undefined ? '' : `  # ${note}`);
}

/** A primitive: header with `length`, then `value` padded with zeros to a multiple of 8. */
function primitive(
  tag: number,
  type: TypeName,
  length: number,
  value: Uint8Array,
  json: JsonItem,
  note?: string,
): Built {
  const padded = new Uint8Array(Math.ceil(value.length / 8) * 8);
  padded.set(value);
  const head = header(tag, typeCodes[type], length);
  return { bytes: concat(head, padded), json, lines: [annotate(head, padded, note)] };
}

function be32(n: number): Uint8Array {
  return Uint8Array.of((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** `width` bytes of the two's complement of `v`, big-endian. */
function twosComplement(v: bigint, width: number): Uint8Array {
  let u = BigInt.asUintN(width * 8, v);
  const out = new Uint8Array(width);
  for (let i = width - 1; i >= 0; i--) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

function be64(v: bigint): Uint8Array {
  if (v !== BigInt.asIntN(64, v)) throw new RangeError(`${v} is not a signed 64-bit value`);
  return twosComplement(v, 8);
}

/** Smallest multiple of 8 bytes whose two's complement range holds v (§9.1.1.4: minimal sign extension). */
function bigIntegerWidth(v: bigint): number {
  let width = 8;
  while (BigInt.asIntN(width * 8, v) !== v) width += 8;
  return width;
}

const tag6 = tagText;

export const build = {
  structure(tag: number, children: readonly Built[], note?: string): Built {
    const body = concat(...children.map((c) => c.bytes));
    const head = header(tag, typeCodes.Structure, body.length);
    return {
      bytes: concat(head, body),
      json: { tag: tag6(tag), type: 'Structure', value: children.map((c) => c.json) },
      lines: [annotate(head, undefined, note), ...children.flatMap((c) => c.lines.map((l) => `  ${l}`))],
    };
  },
  integer(tag: number, value: number, note?: string): Built {
    if (value !== (value | 0)) throw new RangeError(`${value} is not a signed 32-bit value`);
    return primitive(tag, 'Integer', 4, be32(value), { tag: tag6(tag), type: 'Integer', value }, note);
  },
  enumeration(tag: number, value: number, note?: string): Built {
    if (value !== value >>> 0) throw new RangeError(`${value} is not an unsigned 32-bit value`);
    return primitive(
      tag,
      'Enumeration',
      4,
      be32(value),
      { tag: tag6(tag), type: 'Enumeration', value },
      note,
    );
  },
  interval(tag: number, value: number, note?: string): Built {
    if (value !== value >>> 0) throw new RangeError(`${value} is not an unsigned 32-bit value`);
    return primitive(tag, 'Interval', 4, be32(value), { tag: tag6(tag), type: 'Interval', value }, note);
  },
  longInteger(tag: number, value: bigint, note?: string): Built {
    const json: JsonItem = { tag: tag6(tag), type: 'LongInteger', value: value.toString() };
    return primitive(tag, 'LongInteger', 8, be64(value), json, note);
  },
  dateTime(tag: number, value: bigint, note?: string): Built {
    const json: JsonItem = { tag: tag6(tag), type: 'DateTime', value: value.toString() };
    return primitive(tag, 'DateTime', 8, be64(value), json, note);
  },
  dateTimeExtended(tag: number, value: bigint, note?: string): Built {
    const json: JsonItem = { tag: tag6(tag), type: 'DateTimeExtended', value: value.toString() };
    return primitive(tag, 'DateTimeExtended', 8, be64(value), json, note);
  },
  bigInteger(tag: number, value: bigint, note?: string): Built {
    const bytes = twosComplement(value, bigIntegerWidth(value));
    const json: JsonItem = { tag: tag6(tag), type: 'BigInteger', value: value.toString() };
    return primitive(tag, 'BigInteger', bytes.length, bytes, json, note);
  },
  boolean(tag: number, value: boolean, note?: string): Built {
    const bytes = new Uint8Array(8);
    bytes[7] = value ? 1 : 0;
    return primitive(tag, 'Boolean', 8, bytes, { tag: tag6(tag), type: 'Boolean', value }, note);
  },
  textString(tag: number, value: string, note?: string): Built {
    const bytes = new TextEncoder().encode(value);
    return primitive(
      tag,
      'TextString',
      bytes.length,
      bytes,
      { tag: tag6(tag), type: 'TextString', value },
      note,
    );
  },
  byteString(tag: number, value: Uint8Array, note?: string): Built {
    const json: JsonItem = { tag: tag6(tag), type: 'ByteString', value: Buffer.from(value).toString('hex') };
    return primitive(tag, 'ByteString', value.length, value, json, note);
  },
} as const;

/** The text of a .ttlv vector file: '#' header lines, then the annotated hex. */
export function vectorFileText(built: Built, title: readonly string[]): string {
  return [...title.map((l) => `# ${l}`), ...built.lines, ''].join('\n');
}
