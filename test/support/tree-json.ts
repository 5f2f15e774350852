/**
 * The JSON form of a TTLV tree used by the golden vectors (test/vectors/*.json), and strict conversions between it
 * and the codec's TtlvItem. Kept independent of src/ttlv: type codes come from the spec's own table, and every value
 * is checked for the JavaScript type the item type must decode to (number, bigint, boolean, string, bytes), so a
 * decoder that returned a number where a bigint belongs fails the comparison instead of passing it.
 *
 * Shape: { "tag": "420020", "type": "Integer", "value": 8 }. Long Integer, Big Integer, Date-Time and Date Time
 * Extended values are decimal strings (they do not fit a JSON number); Byte String values are lower-case hex.
 */
import type { TtlvItem } from '../../src/ttlv/types.js';

/** Item Type codes, copied from KMIP 1.4 §9.1.1.2 Table 286 and KMIP 2.1 §11.23 Table 458 (Date Time Extended). */
export const typeCodes = {
  Structure: 0x01,
  Integer: 0x02,
  LongInteger: 0x03,
  BigInteger: 0x04,
  Enumeration: 0x05,
  Boolean: 0x06,
  TextString: 0x07,
  ByteString: 0x08,
  DateTime: 0x09,
  Interval: 0x0a,
  DateTimeExtended: 0x0b,
} as const;
export type TypeName = keyof typeof typeCodes;

const typeNames = new Map<number, TypeName>(
  (Object.keys(typeCodes) as TypeName[]).map((name) => [typeCodes[name], name]),
);

export type JsonItem =
  | { readonly tag: string; readonly type: 'Structure'; readonly value: readonly JsonItem[] }
  | { readonly tag: string; readonly type: 'Integer' | 'Enumeration' | 'Interval'; readonly value: number }
  | {
      readonly tag: string;
      readonly type: 'LongInteger' | 'BigInteger' | 'DateTime' | 'DateTimeExtended';
      readonly value: string;
    }
  | { readonly tag: string; readonly type: 'Boolean'; readonly value: boolean }
  | { readonly tag: string; readonly type: 'TextString' | 'ByteString'; readonly value: string };

export function tagText(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(6, '0');
}

function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

function hexToBytes(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new Error(`not lower-case hex: ${hex}`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A decoded (or hand-built) tree as JSON, refusing any value whose JavaScript type is wrong for its item type. */
export function toJson(item: TtlvItem): JsonItem {
  const tag = tagText(item.tag);
  const type = typeNames.get(item.type);
  const value: unknown = item.value;
  const wrong = (): never => {
    throw new Error(
      `tag ${tag}: ${type ?? `type 0x${item.type.toString(16)}`} has a value of the wrong kind`,
    );
  };
  switch (type) {
    case 'Structure':
      if (!Array.isArray(value)) return wrong();
      return { tag, type, value: (value as TtlvItem[]).map(toJson) };
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      if (typeof value !== 'number' || !Number.isInteger(value)) return wrong();
      return { tag, type, value };
    case 'LongInteger':
    case 'BigInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof value !== 'bigint') return wrong();
      return { tag, type, value: value.toString() };
    case 'Boolean':
      if (typeof value !== 'boolean') return wrong();
      return { tag, type, value };
    case 'TextString':
      if (typeof value !== 'string') return wrong();
      return { tag, type, value };
    case 'ByteString':
      if (!(value instanceof Uint8Array)) return wrong();
      return { tag, type, value: bytesToHex(value) };
    case undefined:
      return wrong();
  }
}

/** The codec's tree for a JSON item (plain Uint8Array for byte strings). */
export function fromJson(json: JsonItem): TtlvItem {
  const tag = Number.parseInt(json.tag, 16);
  switch (json.type) {
    case 'Structure':
      return { tag, type: typeCodes.Structure, value: json.value.map(fromJson) };
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      return { tag, type: typeCodes[json.type], value: json.value };
    case 'LongInteger':
    case 'BigInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      return { tag, type: typeCodes[json.type], value: BigInt(json.value) };
    case 'Boolean':
      return { tag, type: typeCodes.Boolean, value: json.value };
    case 'TextString':
      return { tag, type: typeCodes.TextString, value: json.value };
    case 'ByteString':
      return { tag, type: typeCodes.ByteString, value: hexToBytes(json.value) };
  }
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Validates parsed JSON (from a .json vector file) as a JsonItem; throws naming the first problem. */
export function parseJsonItem(x: unknown, where = '$'): JsonItem {
  if (!isRecord(x)) throw new Error(`${where}: not an object`);
  const { tag, type, value } = x;
  if (typeof tag !== 'string' || !/^[0-9A-F]{6}$/.test(tag))
    throw new Error(`${where}.tag: not 6 hex digits`);
  const bad = (): never => {
    throw new Error(`${where}.value: wrong for ${String(type)}`);
  };
  switch (type) {
    case 'Structure':
      if (!Array.isArray(value)) return bad();
      return {
        tag,
        type,
        value: value.map((child: unknown, i) => parseJsonItem(child, `${where}.value[${i}]`)),
      };
    case 'Integer':
    case 'Enumeration':
    case 'Interval':
      if (typeof value !== 'number' || !Number.isInteger(value)) return bad();
      return { tag, type, value };
    case 'LongInteger':
    case 'BigInteger':
    case 'DateTime':
    case 'DateTimeExtended':
      if (typeof value !== 'string' || !/^-?\d+$/.test(value)) return bad();
      return { tag, type, value };
    case 'Boolean':
      if (typeof value !== 'boolean') return bad();
      return { tag, type, value };
    case 'TextString':
      if (typeof value !== 'string') return bad();
      return { tag, type, value };
    case 'ByteString':
      if (typeof value !== 'string' || !/^(?:[0-9a-f]{2})*$/.test(value)) return bad();
      return { tag, type, value };
    default:
      throw new Error(`${where}.type: unknown item type ${String(type)}`);
  }
}
