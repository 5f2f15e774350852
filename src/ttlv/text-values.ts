import { decodeBigInteger } from './decode.js';
import { encodeBigInteger } from './encode.js';
import { TtlvError } from './errors.js';
import { defaultDecodeLimits } from './limits.js';
import type { TextNames, TextParseOptions } from './text-names.js';
import { formatTag, ItemType, itemTypeName, type ItemTypeName, type TtlvItem } from './types.js';

/**
 * Scalar values in the KMIP XML and JSON encodings (KMIP Additional Message Encodings 1.0 §4.1.5 and §6.1.5), shared
 * by both so the two forms can never disagree on a value. `tag` in these functions is the tag whose enumeration or
 * mask applies: the item's own, or for a 1.x Attribute Value the tag its Attribute Name denotes.
 */

/** A scalar item (anything but a Structure). */
export type ScalarItem = Exclude<TtlvItem, { type: typeof ItemType.Structure }>;

const hex32 = (value: number): string => `0x${(value >>> 0).toString(16).padStart(8, '0')}`;

function hex64(value: bigint): string {
  return `0x${BigInt.asUintN(64, value).toString(16).padStart(16, '0')}`;
}

/** ISO 8601 in UTC as the vectors write it ("2008-03-14T11:56:40+00:00"); hex when out of Date's range. */
function formatDateTime(seconds: bigint): string {
  const ms = Number(seconds) * 1000;
  if (!Number.isSafeInteger(ms) || Math.abs(ms) > 8.64e15) return hex64(seconds);
  return new Date(ms).toISOString().replace(/\.000Z$/, '+00:00');
}

function formatDateTimeExtended(micros: bigint): string {
  const ms = Number(micros / 1000n);
  if (Math.abs(ms) > 8.64e15) return hex64(micros);
  const fraction = BigInt.asUintN(64, ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n)
    .toString()
    .padStart(6, '0');
  const whole = new Date(Number((micros - BigInt(fraction)) / 1000n)).toISOString().slice(0, 19);
  return `${whole}.${fraction}+00:00`;
}

/** The text of a scalar for XML, or the JSON value (number, boolean or string) for JSON. */
export function formatScalar(
  item: ScalarItem,
  tag: number,
  names: TextNames,
  form: 'xml' | 'json',
): string | number | boolean {
  const json = form === 'json';
  switch (item.type) {
    case ItemType.Integer:
      if (names.isMask(tag)) {
        const bits = names.maskNames(tag, item.value);
        // §4.1.5: mask values as names joined by '|' in JSON, by spaces in XML.
        if (bits !== undefined && bits.length > 0) return bits.join(json ? '|' : ' ');
        return hex32(item.value);
      }
      return json ? item.value : String(item.value);
    case ItemType.Enumeration:
      return names.enumName(tag, item.value) ?? hex32(item.value);
    case ItemType.Interval:
      return json ? item.value : String(item.value);
    case ItemType.LongInteger:
      // JSON numbers are exact only up to 2^52 (§4.1.5): larger values go as hex.
      if (json)
        return item.value > -(1n << 52n) && item.value < 1n << 52n ? Number(item.value) : hex64(item.value);
      return item.value.toString();
    case ItemType.BigInteger: {
      const bytes = encodeBigInteger(item.value).toString('hex');
      return json ? `0x${bytes}` : bytes;
    }
    case ItemType.Boolean:
      return json ? item.value : String(item.value);
    case ItemType.TextString:
      return item.value;
    case ItemType.ByteString:
      return Buffer.from(item.value.buffer, item.value.byteOffset, item.value.byteLength).toString('hex');
    case ItemType.DateTime:
      return formatDateTime(item.value);
    case ItemType.DateTimeExtended:
      return formatDateTimeExtended(item.value);
  }
}

const isoPattern = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Microseconds since the epoch of an ISO 8601 date-time with a zone, or undefined when it is not one. */
function parseIso(text: string): bigint | undefined {
  const m = isoPattern.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
    string,
  ];
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h))
    return undefined;
  let offsetMinutes = 0;
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    offsetMinutes = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  }
  const micros = BigInt(frac === undefined ? 0 : Number(frac.padEnd(6, '0').slice(0, 6)));
  return (BigInt(ms) - BigInt(offsetMinutes) * 60_000n) * 1000n + micros;
}

const nowPattern = /^\$NOW(?:([+-])(\d+))?$/;

export interface ScalarContext {
  readonly tag: number;
  /** The tag whose enumeration/mask applies (differs from `tag` for a 1.x Attribute Value). */
  readonly meaningTag: number;
  readonly path: readonly number[];
  readonly names: TextNames;
  readonly options: TextParseOptions;
}

/**
 * Parses a scalar of the given type from its XML attribute text or JSON value. Accepts what §4.1.5/§6.1.5 allow:
 * names for enumerations and masks, 0x-hex for values without a name, decimal numbers, ISO 8601 date-times.
 */
export function parseScalar(type: ItemType, raw: unknown, ctx: ScalarContext): ScalarItem {
  const { tag, path } = ctx;
  const fail = (detail: string): never => {
    throw new TtlvError('bad-text', -1, path, `${formatTag(tag)}: ${detail}`);
  };
  if (typeof raw === 'string' && raw.startsWith('$') && type !== ItemType.TextString) {
    return parsePlaceholder(type, raw, ctx);
  }
  const text = typeof raw === 'string' ? raw : undefined;
  const hexValue = (bytes: number): bigint | undefined => {
    if (text === undefined || !/^0x[0-9a-fA-F]+$/.test(text)) return undefined;
    if (text.length - 2 > bytes * 2) fail(`hex value ${text} is longer than ${bytes} bytes`);
    return BigInt(text);
  };
  switch (type) {
    case ItemType.Structure:
      return fail('a Structure has no scalar value');
    case ItemType.Integer: {
      const value =
        integerValue(raw, 32, true) ?? maskValue(raw, ctx) ?? fail(`'${String(raw)}' is not an Integer`);
      return { tag, type, value };
    }
    case ItemType.Enumeration: {
      const fromHex = hexValue(4);
      const value =
        fromHex === undefined
          ? typeof raw === 'number' && Number.isInteger(raw) && raw >= 0 && raw <= 0xffffffff
            ? raw
            : text === undefined
              ? undefined
              : ctx.names.enumValue(ctx.meaningTag, text)
          : Number(fromHex);
      if (value === undefined) return fail(`'${String(raw)}' is not a value of this enumeration`);
      return { tag, type, value };
    }
    case ItemType.Interval: {
      const value = integerValue(raw, 32, false) ?? fail(`'${String(raw)}' is not an Interval`);
      return { tag, type, value };
    }
    case ItemType.LongInteger: {
      const fromHex = hexValue(8);
      if (fromHex !== undefined) return { tag, type, value: BigInt.asIntN(64, fromHex) };
      const value = decimalBigint(raw) ?? fail(`'${String(raw)}' is not a Long Integer`);
      if (value < -(1n << 63n) || value >= 1n << 63n) fail(`${value} does not fit in 64 bits`);
      return { tag, type, value };
    }
    case ItemType.BigInteger: {
      if (typeof raw === 'number' && Number.isSafeInteger(raw)) return { tag, type, value: BigInt(raw) };
      const digits = text?.replace(/^0x/i, '');
      if (digits === undefined || !/^([0-9a-fA-F]{2})+$/.test(digits))
        return fail(`'${String(raw)}' is not hex bytes`);
      const bytes = Buffer.from(digits, 'hex');
      return { tag, type, value: decodeBigInteger(bytes, 0, bytes.length) };
    }
    case ItemType.Boolean: {
      if (raw === true || raw === 'true' || raw === '0x0000000000000001') return { tag, type, value: true };
      if (raw === false || raw === 'false' || raw === '0x0000000000000000')
        return { tag, type, value: false };
      return fail(`'${String(raw)}' is not a Boolean (true, false or 0x-hex of 8 bytes)`);
    }
    case ItemType.TextString:
      if (text === undefined) return fail('a Text String value must be a string');
      return { tag, type, value: text };
    case ItemType.ByteString: {
      if (text === undefined || !/^([0-9a-fA-F]{2})*$/.test(text))
        return fail(`'${String(raw)}' is not hex bytes`);
      return { tag, type, value: new Uint8Array(Buffer.from(text, 'hex')) };
    }
    case ItemType.DateTime: {
      const fromHex = hexValue(8);
      if (fromHex !== undefined) return { tag, type, value: BigInt.asIntN(64, fromHex) };
      const micros = text === undefined ? undefined : parseIso(text);
      if (micros === undefined) return fail(`'${String(raw)}' is not an ISO 8601 date-time with a zone`);
      if (micros % 1_000_000n !== 0n) fail('a Date-Time has whole seconds only');
      return { tag, type, value: micros / 1_000_000n };
    }
    case ItemType.DateTimeExtended: {
      const fromHex = hexValue(8);
      if (fromHex !== undefined) return { tag, type, value: BigInt.asIntN(64, fromHex) };
      const micros = text === undefined ? undefined : parseIso(text);
      if (micros === undefined) return fail(`'${String(raw)}' is not an ISO 8601 date-time with a zone`);
      return { tag, type, value: micros };
    }
  }
}

function parsePlaceholder(type: ItemType, raw: string, ctx: ScalarContext): ScalarItem {
  const now = nowPattern.exec(raw);
  if (
    now &&
    ctx.options.now !== undefined &&
    (type === ItemType.DateTime || type === ItemType.DateTimeExtended)
  ) {
    const delta = BigInt(now[2] ?? '0') * (now[1] === '-' ? -1n : 1n);
    const seconds = ctx.options.now + delta;
    return type === ItemType.DateTime
      ? { tag: ctx.tag, type, value: seconds }
      : { tag: ctx.tag, type, value: seconds * 1_000_000n };
  }
  const replacement = ctx.options.substitute?.(raw, typeName(type));
  if (replacement !== undefined && !replacement.startsWith('$')) return parseScalar(type, replacement, ctx);
  throw new TtlvError('placeholder', -1, ctx.path, `placeholder ${raw} in a ${typeName(type)} has no value`);
}

function typeName(type: ItemType): ItemTypeName {
  const name = itemTypeName(type);
  if (name === undefined) throw new RangeError(`not an item type: ${type}`);
  return name;
}

/** A decimal or 0x-hex integer of `bits` bits; 0x-hex is the two's complement bit pattern. */
function integerValue(raw: unknown, bits: 32, signed: boolean): number | undefined {
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  if (typeof raw === 'number') return Number.isInteger(raw) && raw >= min && raw <= max ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  if (/^0x[0-9a-fA-F]{1,8}$/.test(raw)) {
    const unsigned = Number.parseInt(raw.slice(2), 16);
    return signed ? unsigned | 0 : unsigned;
  }
  if (!/^-?\d+$/.test(raw)) return undefined;
  const value = Number(raw);
  return value >= min && value <= max ? value : undefined;
}

function decimalBigint(raw: unknown): bigint | undefined {
  if (typeof raw === 'number') return Number.isSafeInteger(raw) ? BigInt(raw) : undefined;
  if (typeof raw === 'string' && /^-?\d+$/.test(raw)) return BigInt(raw);
  return undefined;
}

/** Mask bit names separated by spaces or '|' (§4.1.5, §6.1.5), possibly mixed with 0x-hex parts. */
function maskValue(raw: unknown, ctx: ScalarContext): number | undefined {
  if (typeof raw !== 'string' || !ctx.names.isMask(ctx.meaningTag)) return undefined;
  const parts = raw.split(/[\s|]+/).filter((part) => part !== '');
  if (parts.length === 0) return undefined;
  let value = 0;
  const named: string[] = [];
  for (const part of parts) {
    if (/^0x[0-9a-fA-F]{1,8}$/.test(part)) value |= Number.parseInt(part.slice(2), 16);
    else named.push(part);
  }
  if (named.length > 0) {
    const bits = ctx.names.maskValue(ctx.meaningTag, named);
    if (bits === undefined) return undefined;
    value |= bits;
  }
  return value | 0;
}

/**
 * Tracks the last Attribute Name seen among a Structure's children, so that the Attribute Value after it is read
 * and written with the enumeration or mask of the attribute it names (KMIP 1.4 §2.1.1, Attribute structure).
 */
export class AttributeMeaning {
  private attributeTag: number | undefined;

  constructor(private readonly names: TextNames) {}

  /** Call with each child, in order, after it has been read or written. */
  observe(item: TtlvItem): void {
    if (item.tag === this.names.attributeNameTag && item.type === ItemType.TextString) {
      this.attributeTag = this.names.attributeTag(item.value);
    }
  }

  /** The tag whose enumeration or mask applies to a child with this tag. */
  meaningTag(tag: number): number {
    return tag === this.names.attributeValueTag && this.attributeTag !== undefined ? this.attributeTag : tag;
  }
}

/**
 * The binary decoder's depth limit (limits.ts), for the text forms too: a KMIP XML or JSON message nested deeper is
 * refused before it is converted further, so that input read from a client cannot drive the conversion's
 * recursion (and its tag paths, which grow with each level) as deep as its size allows.
 */
export function checkTextDepth(path: readonly number[]): void {
  if (path.length > defaultDecodeLimits.maxDepth) {
    throw new TtlvError(
      'too-deep',
      -1,
      path,
      `structures nested deeper than ${defaultDecodeLimits.maxDepth}`,
    );
  }
}

/** The tag of an element or JSON name: a normalized name, or 0x-hex for tags the registry does not name. */
export function parseTagName(name: string, names: TextNames, path: readonly number[]): number {
  if (/^0x[0-9a-fA-F]{6}$/.test(name)) return Number.parseInt(name.slice(2), 16);
  const tag = names.tagByName(name);
  if (tag === undefined) throw new TtlvError('bad-text', -1, path, `unknown tag name '${name}'`);
  return tag;
}

/** The ItemType of a type name ("TextString"); Structure when absent. */
export function parseTypeName(name: string | undefined, path: readonly number[]): ItemType {
  if (name === undefined) return ItemType.Structure;
  const type = (ItemType as Record<string, ItemType | undefined>)[name];
  if (type === undefined) throw new TtlvError('bad-text', -1, path, `unknown item type '${name}'`);
  return type;
}

export function typeNameOf(type: ItemType): string {
  return typeName(type);
}
