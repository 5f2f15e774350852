import { TtlvError } from './errors.js';
import { ItemType, type TtlvItem } from './types.js';

/**
 * TTLV encoder (KMIP 1.4 §9.1, KMIP 2.1 §9.1). Lengths are computed here, never taken from the caller: each
 * Structure's header is written with a placeholder and back-filled once its children are written. Values are
 * checked against their type's range so that nothing malformed ever reaches the wire.
 */
export function encodeTtlv(item: TtlvItem): Buffer {
  const writer = new Writer();
  writer.item(item);
  return writer.finish();
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
/** With the u flag a surrogate pair is one code point, so only unpaired surrogates match. */
const loneSurrogate = /[\uD800-\uDFFF]/u;

/** One growable buffer per encode call (no shared module-level writer). */
class Writer {
  private buf = Buffer.allocUnsafe(1024);
  private pos = 0;

  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  private header(tag: number, type: ItemType, length: number, path: readonly number[]): void {
    if (!Number.isInteger(tag) || tag < 0 || tag > 0xffffff) {
      throw new TtlvError('bad-tag', -1, [...path], `tag ${tag} does not fit in three bytes`);
    }
    // Room for the header and a fixed-size value; variable-size values ensure their own room.
    this.ensure(16);
    const { buf } = this;
    buf[this.pos] = tag >>> 16;
    buf[this.pos + 1] = (tag >>> 8) & 0xff;
    buf[this.pos + 2] = tag & 0xff;
    buf[this.pos + 3] = type;
    buf.writeUInt32BE(length, this.pos + 4);
    this.pos += 8;
  }

  /** Writes zero padding after a value of `length` bytes. */
  private pad(length: number): void {
    const padding = (8 - (length % 8)) % 8;
    this.buf.fill(0, this.pos, this.pos + padding);
    this.pos += padding;
  }

  /** Tags from the root to the item being written; copied only into an error. */
  private readonly path: number[] = [];

  item(item: TtlvItem): void {
    this.path.push(item.tag);
    this.writeItem(item);
    this.path.pop();
  }

  private writeItem(item: TtlvItem): void {
    const path = this.path;
    switch (item.type) {
      case ItemType.Structure: {
        this.header(item.tag, item.type, 0, path);
        const lengthAt = this.pos - 4;
        const start = this.pos;
        for (const child of item.value) this.item(child);
        this.buf.writeUInt32BE(this.pos - start, lengthAt);
        return;
      }
      case ItemType.Integer:
        this.int32(item.tag, item.type, item.value, INT32_MIN, INT32_MAX, path);
        return;
      case ItemType.Enumeration:
      case ItemType.Interval:
        this.int32(item.tag, item.type, item.value, 0, UINT32_MAX, path);
        return;
      case ItemType.LongInteger:
      case ItemType.DateTime:
      case ItemType.DateTimeExtended:
        if (item.value < INT64_MIN || item.value > INT64_MAX) {
          throw new TtlvError('bad-value', -1, [...path], `${item.value} does not fit in 64 signed bits`);
        }
        this.header(item.tag, item.type, 8, path);
        this.buf.writeBigInt64BE(item.value, this.pos);
        this.pos += 8;
        return;
      case ItemType.Boolean:
        this.header(item.tag, item.type, 8, path);
        this.buf.writeBigUInt64BE(item.value ? 1n : 0n, this.pos);
        this.pos += 8;
        return;
      case ItemType.BigInteger: {
        const bytes = encodeBigInteger(item.value);
        this.header(item.tag, item.type, bytes.length, path);
        this.ensure(bytes.length);
        bytes.copy(this.buf, this.pos);
        this.pos += bytes.length;
        return;
      }
      case ItemType.TextString: {
        // A lone surrogate has no UTF-8 form (RFC 3629 §3); Buffer.write would silently send U+FFFD instead.
        if (loneSurrogate.test(item.value)) {
          throw new TtlvError('bad-value', -1, [...path], 'text string holds a lone UTF-16 surrogate');
        }
        // §9.1.1.4: "There SHALL NOT be null-termination at the end of such strings."
        if (item.value.endsWith('\u0000')) {
          throw new TtlvError('bad-value', -1, [...path], 'a Text String must not be null-terminated');
        }
        // Worst case 3 bytes per UTF-16 unit, plus padding.
        this.header(item.tag, item.type, 0, path);
        this.ensure(item.value.length * 3 + 8);
        const length = this.buf.write(item.value, this.pos, 'utf8');
        this.buf.writeUInt32BE(length, this.pos - 4);
        this.pos += length;
        this.pad(length);
        return;
      }
      case ItemType.ByteString: {
        const { value } = item;
        this.header(item.tag, item.type, value.length, path);
        this.ensure(value.length + 8);
        this.buf.set(value, this.pos);
        this.pos += value.length;
        this.pad(value.length);
        return;
      }
    }
  }

  private int32(tag: number, type: ItemType, value: number, min: number, max: number, path: number[]): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TtlvError('bad-value', -1, [...path], `${value} is not an integer in [${min}, ${max}]`);
    }
    this.header(tag, type, 4, path);
    const { buf } = this;
    if (value < 0) buf.writeInt32BE(value, this.pos);
    else buf.writeUInt32BE(value, this.pos);
    buf.fill(0, this.pos + 4, this.pos + 8);
    this.pos += 8;
  }
}

/**
 * Shortest two's complement form, sign-extended to a multiple of 8 bytes (§9.1.1.4 "Big Integer": "padded with
 * leading sign-extended bytes ... so that the total length of the value is a multiple of eight bytes").
 */
export function encodeBigInteger(value: bigint): Buffer {
  let bytes = 8;
  // Grow until the value fits in `bytes` as a signed number.
  while (value >= 1n << BigInt(bytes * 8 - 1) || value < -(1n << BigInt(bytes * 8 - 1))) bytes += 8;
  const unsigned = value < 0n ? (1n << BigInt(bytes * 8)) + value : value;
  return Buffer.from(unsigned.toString(16).padStart(bytes * 2, '0'), 'hex');
}
