import { TtlvError, type TtlvErrorCode } from './errors.js';
import { defaultDecodeLimits, type DecodeLimits } from './limits.js';
import { ItemType, isItemType, type TtlvItem } from './types.js';

/**
 * Strict TTLV decoder (KMIP 1.4 §9.1, KMIP 2.1 §9.1).
 *
 * Rules enforced, each with its own error code: a known item type; a tag in the spec (0x42xxxx) or extension
 * (0x54xxxx) range; the fixed length of fixed-size types; BigInteger lengths a positive multiple of 8; zero padding
 * to a multiple of 8 bytes; Structure children that add up exactly to the Structure's length; a depth limit; strict
 * UTF-8 in Text Strings; Booleans of exactly 0 or 1; nothing after the top-level item. It never allocates more than
 * the input holds: every length is checked against the bytes actually present before it is used.
 */
export function decodeTtlv(bytes: Uint8Array, limits: Partial<DecodeLimits> = {}): TtlvItem {
  const decoder = new Decoder(bytes, { ...defaultDecodeLimits, ...limits });
  return decoder.decodeTop();
}

/** Fixed value lengths of the fixed-size item types (§9.1.1.4). */
const fixedLength: Partial<Record<number, number>> = {
  [ItemType.Integer]: 4,
  [ItemType.LongInteger]: 8,
  [ItemType.Enumeration]: 4,
  [ItemType.Boolean]: 8,
  [ItemType.DateTime]: 8,
  [ItemType.Interval]: 4,
  [ItemType.DateTimeExtended]: 8,
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
// eslint-disable-next-line no-control-regex -- any character outside 7-bit ASCII
const nonAscii = /[^\u0000-\u007f]/;

class Decoder {
  private readonly buf: Buffer;
  private readonly path: number[] = [];

  constructor(
    bytes: Uint8Array,
    private readonly limits: DecodeLimits,
  ) {
    this.buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  decodeTop(): TtlvItem {
    const { buf } = this;
    if (buf.length > this.limits.maxBytes) {
      this.fail('too-large', 0, `input of ${buf.length} bytes exceeds the limit of ${this.limits.maxBytes}`);
    }
    if (buf.length === 0) this.fail('truncated', 0, 'empty input');
    const [item, end] = this.decodeItem(0, buf.length, 0);
    if (end !== buf.length) {
      this.fail('trailing-bytes', end, `${buf.length - end} bytes after the top-level item`);
    }
    return item;
  }

  private fail(code: TtlvErrorCode, offset: number, detail: string): never {
    throw new TtlvError(code, offset, [...this.path], detail);
  }

  /** Decodes the item at `offset`, which must end by `limit`; returns it and the offset after its padding. */
  private decodeItem(offset: number, limit: number, depth: number): [TtlvItem, number] {
    const { buf } = this;
    // Only the top-level item can run past the input: a child's limit is its parent's end, which was already
    // checked against the input, so a child running past it breaks the parent's length (§9.1.1.3), even when the
    // parent happens to end where the input ends.
    const code: TtlvErrorCode = depth === 0 ? 'truncated' : 'length-mismatch';
    if (offset + 8 > limit) {
      this.fail(code, offset, `${limit - offset} bytes left where an 8-byte item header is needed`);
    }
    const tag = buf.readUIntBE(offset, 3);
    this.path.push(tag);
    const high = tag >>> 16;
    if (high !== 0x42 && high !== 0x54) {
      this.fail('bad-tag', offset, `tag 0x${tag.toString(16)} is neither 0x42xxxx nor an 0x54xxxx extension`);
    }
    const type = buf.readUInt8(offset + 3);
    if (!isItemType(type)) this.fail('bad-type', offset + 3, `0x${type.toString(16)} is not an item type`);
    const length = buf.readUInt32BE(offset + 4);
    const fixed = fixedLength[type];
    if (fixed !== undefined && length !== fixed) {
      this.fail('bad-length', offset + 4, `length ${length}, but this item type is always ${fixed} bytes`);
    }
    if ((type === ItemType.BigInteger || type === ItemType.Structure) && length % 8 !== 0) {
      this.fail('bad-length', offset + 4, `length ${length} is not a multiple of 8`);
    }
    if (type === ItemType.BigInteger && length === 0) {
      this.fail('bad-length', offset + 4, 'a Big Integer needs at least 8 bytes');
    }
    const start = offset + 8;
    const padded = length + ((8 - (length % 8)) % 8);
    const end = start + padded;
    if (end > limit) {
      this.fail(
        code,
        offset + 4,
        depth === 0
          ? `length ${length} needs ${padded} bytes but only ${limit - start} remain`
          : `length ${length} overruns the enclosing structure by ${end - limit} bytes`,
      );
    }
    for (let i = start + length; i < end; i++) {
      if (buf[i] !== 0) this.fail('bad-padding', i, 'padding bytes must be zero');
    }
    const item = this.decodeValue(tag, type, start, length, depth);
    this.path.pop();
    return [item, end];
  }

  private decodeValue(tag: number, type: ItemType, start: number, length: number, depth: number): TtlvItem {
    const { buf } = this;
    switch (type) {
      case ItemType.Structure: {
        if (depth + 1 > this.limits.maxDepth) {
          this.fail('too-deep', start - 8, `structures nested deeper than ${this.limits.maxDepth}`);
        }
        const children: TtlvItem[] = [];
        const end = start + length;
        let at = start;
        while (at < end) {
          const [child, next] = this.decodeItem(at, end, depth + 1);
          children.push(child);
          at = next;
        }
        return { tag, type, value: children };
      }
      case ItemType.Integer:
        return { tag, type, value: buf.readInt32BE(start) };
      case ItemType.Enumeration:
        return { tag, type, value: buf.readUInt32BE(start) };
      case ItemType.Interval:
        return { tag, type, value: buf.readUInt32BE(start) };
      case ItemType.LongInteger:
        return { tag, type, value: buf.readBigInt64BE(start) };
      case ItemType.DateTime:
        return { tag, type, value: buf.readBigInt64BE(start) };
      case ItemType.DateTimeExtended:
        return { tag, type, value: buf.readBigInt64BE(start) };
      case ItemType.BigInteger:
        // §9.1.1.4: padded "with the minimal number of leading sign-extended bytes", so eight leading bytes that
        // only repeat the sign of the next one are one padding word too many.
        if (length > 8 && isSignPadding(buf, start)) {
          this.fail('bad-padding', start, 'a Big Integer has more than the minimal sign-extension padding');
        }
        return { tag, type, value: decodeBigInteger(buf, start, length) };
      case ItemType.Boolean: {
        const value = buf.readBigUInt64BE(start);
        if (value > 1n) this.fail('bad-value', start, `a Boolean must be 0 or 1, not ${value}`);
        return { tag, type, value: value === 1n };
      }
      case ItemType.TextString:
        return { tag, type, value: this.decodeText(start, length) };
      case ItemType.ByteString:
        // A copy, not a view: the framer reuses its buffer for the next message.
        return { tag, type, value: Uint8Array.prototype.slice.call(buf, start, start + length) };
    }
  }

  private decodeText(start: number, length: number): string {
    const { buf } = this;
    const end = start + length;
    // §9.1.1.4: "There SHALL NOT be null-termination at the end of such strings."
    if (length > 0 && buf[end - 1] === 0) {
      this.fail('bad-value', end - 1, 'a Text String must not be null-terminated (KMIP 1.4 section 9.1.1.4)');
    }
    // Pure ASCII is valid UTF-8 and decodes fastest as latin1; anything else goes through the fatal decoder.
    const latin1 = buf.toString('latin1', start, end);
    if (!nonAscii.test(latin1)) return latin1;
    try {
      return utf8.decode(buf.subarray(start, end));
    } catch {
      this.fail('bad-utf8', start, 'text string is not valid UTF-8');
    }
  }
}

/** Two's complement, big-endian (§9.1.1.4 "Big Integer"). */
export function decodeBigInteger(bytes: Uint8Array, start: number, length: number): bigint {
  const hex = Buffer.from(bytes.buffer, bytes.byteOffset + start, length).toString('hex');
  const unsigned = BigInt(`0x${hex}`);
  return (bytes[start] ?? 0) >= 0x80 ? unsigned - (1n << BigInt(length * 8)) : unsigned;
}

/** Whether the 8 bytes at `start` are 0x00 (or 0xFF) and the byte after them keeps the same sign. */
function isSignPadding(bytes: Buffer, start: number): boolean {
  const word = bytes.readBigUInt64BE(start);
  const next = bytes.readUInt8(start + 8);
  return (word === 0n && next < 0x80) || (word === 0xffffffffffffffffn && next >= 0x80);
}
