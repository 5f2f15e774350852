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

/** One growable buffer per encode call (no shared module-level writer). */
class Writer {
  // 2 KiB comes from Node's buffer pool (cheap) and holds most requests and responses without growing.
  private buf = Buffer.allocUnsafe(2048);
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
    writeLength(buf, this.pos + 4, length);
    this.pos += 8;
  }

  /** Writes zero padding after a value of `length` bytes. */
  private pad(length: number): void {
    // At most 7 bytes: a loop is cheaper than a call into Buffer.fill.
    const end = this.pos + ((8 - (length % 8)) % 8);
    const { buf } = this;
    while (this.pos < end) buf[this.pos++] = 0;
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
        writeLength(this.buf, lengthAt, this.pos - start);
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
        if (!item.value.isWellFormed()) {
          throw new TtlvError('bad-value', -1, [...path], 'text string holds a lone UTF-16 surrogate');
        }
        // §9.1.1.4: "There SHALL NOT be null-termination at the end of such strings."
        if (item.value.charCodeAt(item.value.length - 1) === 0) {
          throw new TtlvError('bad-value', -1, [...path], 'a Text String must not be null-terminated');
        }
        this.header(item.tag, item.type, 0, path);
        const length = this.text(item.value);
        writeLength(this.buf, this.pos - 4, length);
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

  /**
   * Writes UTF-8 text at `pos` and returns its length in bytes. ASCII, the usual case (identifiers, names), is
   * copied by a plain loop, which beats a call into Buffer.write for the short strings KMIP carries.
   */
  private text(value: string): number {
    // Worst case 3 bytes per UTF-16 unit, plus padding.
    this.ensure(value.length * 3 + 8);
    const { buf, pos } = this;
    const n = value.length;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c >= 0x80) return buf.write(value, pos, 'utf8');
      buf[pos + i] = c;
    }
    return n;
  }

  private int32(tag: number, type: ItemType, value: number, min: number, max: number, path: number[]): void {
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new TtlvError('bad-value', -1, [...path], `${value} is not an integer in [${min}, ${max}]`);
    }
    this.header(tag, type, 4, path);
    const { buf } = this;
    writeLength(buf, this.pos, value >>> 0);
    buf[this.pos + 4] = 0;
    buf[this.pos + 5] = 0;
    buf[this.pos + 6] = 0;
    buf[this.pos + 7] = 0;
    this.pos += 8;
  }
}

/** A big-endian unsigned 32-bit value, written byte by byte (the callers have checked the range). */
function writeLength(buf: Buffer, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

/** Whether two items are the same TTLV: tag, type, value and, for structures, every child in order. */
export function sameEncoding(a: TtlvItem, b: TtlvItem): boolean {
  return encodeTtlv(a).equals(encodeTtlv(b));
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
