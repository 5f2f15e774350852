/**
 * The binary record formats of the level store (the key layout is in keys.ts and README.md).
 *
 * Every value starts with a format byte so that a later schema can tell old records from new ones and migrate them
 * (or refuse them) instead of misreading them. Byte fields (attributes, material, KEK records) are stored as they
 * are, length-prefixed: base64 or JSON would grow them by a third and cost a copy on every read.
 *
 * Primitive encodings:
 * - uvarint: unsigned LEB128, at most 8 bytes (values up to 2^53 - 1, Number.MAX_SAFE_INTEGER).
 * - str: uvarint byte length, then UTF-8. Strings are well-formed (checked before writing), so UTF-8 is lossless.
 * - bytes: uvarint length, then the bytes.
 * - f64: IEEE 754 big-endian (Cryptographic Length: lossless for any number the caller gives).
 */
import type { LocateIndex, StoredObject } from './store.js';

/** Format byte of object records written by this code. */
export const OBJECT_FORMAT = 1;
/** Format byte of KEK records. */
export const KEK_FORMAT = 1;
/** Format byte of index entry values. */
export const ENTRY_FORMAT = 1;

/** Thrown by the readers; the store turns it into StoreError('corrupt') naming the key it read. */
export class RecordFormatError extends Error {
  override readonly name = 'RecordFormatError';
}

const encoder = new TextEncoder();
/** fatal: a stored string that is not UTF-8 is corruption, not something to paper over with U+FFFD. */
const decoder = new TextDecoder('utf-8', { fatal: true });

/** A growable byte writer; one per record (no shared module-level buffer, so concurrent commits cannot clash). */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  constructor(capacity = 256) {
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = value;
  }

  uvarint(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`uvarint out of range: ${value}`);
    this.#reserve(8);
    let v = value;
    while (v >= 0x80) {
      // Division, not >>>: values above 2^32 must survive.
      this.#buf[this.#len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.#buf[this.#len++] = v;
  }

  f64(value: number): void {
    this.#reserve(8);
    this.#view.setFloat64(this.#len, value);
    this.#len += 8;
  }

  bytes(value: Uint8Array): void {
    this.uvarint(value.length);
    this.#reserve(value.length);
    this.#buf.set(value, this.#len);
    this.#len += value.length;
  }

  str(value: string): void {
    this.bytes(encoder.encode(value));
  }

  /** The written bytes (a view of the writer's buffer; the writer is not reused). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}

/** A bounds-checked reader: every overrun is a RecordFormatError, never a RangeError or garbage. */
export class ByteReader {
  readonly #buf: Uint8Array;
  readonly #view: DataView;
  #pos = 0;

  constructor(buf: Uint8Array) {
    this.#buf = buf;
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  #need(n: number, what: string): void {
    if (this.#pos + n > this.#buf.length) {
      throw new RecordFormatError(`truncated ${what} at byte ${this.#pos} of ${this.#buf.length}`);
    }
  }

  u8(what: string): number {
    this.#need(1, what);
    return this.#buf[this.#pos++] ?? 0;
  }

  uvarint(what: string): number {
    let value = 0;
    let scale = 1;
    // 8 groups of 7 bits cover 2^56; anything longer (or above 2^53) is not something we wrote.
    for (let i = 0; i < 8; i += 1) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value))
          throw new RecordFormatError(`${what} out of range at byte ${this.#pos}`);
        return value;
      }
      scale *= 0x80;
    }
    throw new RecordFormatError(`${what}: varint longer than 8 bytes at byte ${this.#pos}`);
  }

  f64(what: string): number {
    this.#need(8, what);
    const value = this.#view.getFloat64(this.#pos);
    this.#pos += 8;
    return value;
  }

  /** A copy, so that the caller may keep or zero it without touching the database's buffer. */
  bytes(what: string): Uint8Array {
    const len = this.uvarint(what);
    this.#need(len, what);
    const out = new Uint8Array(this.#buf.subarray(this.#pos, this.#pos + len));
    this.#pos += len;
    return out;
  }

  str(what: string): string {
    const len = this.uvarint(what);
    this.#need(len, what);
    const view = this.#buf.subarray(this.#pos, this.#pos + len);
    this.#pos += len;
    try {
      return decoder.decode(view);
    } catch (cause) {
      throw new RecordFormatError(`${what}: invalid UTF-8`, { cause });
    }
  }

  /** A count of items that each take at least one byte: a count above the bytes left is corruption. */
  count(what: string): number {
    const n = this.uvarint(what);
    if (n > this.#buf.length - this.#pos)
      throw new RecordFormatError(`${what}: count ${n} exceeds the record`);
    return n;
  }

  end(): void {
    if (this.#pos !== this.#buf.length) {
      throw new RecordFormatError(`${this.#buf.length - this.#pos} trailing bytes after the record`);
    }
  }
}

/** An object as stored: the public StoredObject plus its creation sequence number (index keys sort by it). */
export interface ObjectRecord {
  readonly seq: number;
  readonly object: StoredObject;
}

const HAS_ALGORITHM = 0x01;
const HAS_LENGTH = 0x02;
const HAS_MATERIAL = 0x04;

/**
 * Object record, format 1:
 *   u8 format=1 | uvarint seq | uvarint revision | str uid | str owner | str objectType | str state
 *   | u8 flags (1 algorithm, 2 length, 4 material)
 *   | uvarint n, str name * n | [str algorithm] | [f64 length] | uvarint n, str group * n
 *   | uvarint n, (str name, str value) * n | bytes attributes | [bytes material]
 */
export function encodeObject(record: ObjectRecord): Uint8Array {
  const { object } = record;
  const { index } = object;
  const w = new ByteWriter(64 + object.attributes.length + (object.material?.length ?? 0));
  w.u8(OBJECT_FORMAT);
  w.uvarint(record.seq);
  w.uvarint(object.revision);
  w.str(object.uid);
  w.str(object.owner);
  w.str(object.objectType);
  w.str(object.state);
  let flags = 0;
  if (index.algorithm !== undefined) flags |= HAS_ALGORITHM;
  if (index.length !== undefined) flags |= HAS_LENGTH;
  if (object.material !== undefined) flags |= HAS_MATERIAL;
  w.u8(flags);
  w.uvarint(index.names.length);
  for (const name of index.names) w.str(name);
  if (index.algorithm !== undefined) w.str(index.algorithm);
  if (index.length !== undefined) w.f64(index.length);
  w.uvarint(index.groups.length);
  for (const group of index.groups) w.str(group);
  w.uvarint(index.custom.length);
  for (const [name, value] of index.custom) {
    w.str(name);
    w.str(value);
  }
  w.bytes(object.attributes);
  if (object.material !== undefined) w.bytes(object.material);
  return w.finish();
}

export function decodeObject(bytes: Uint8Array): ObjectRecord {
  const r = new ByteReader(bytes);
  const format = r.u8('format');
  if (format !== OBJECT_FORMAT) throw new RecordFormatError(`unknown object record format ${format}`);
  const seq = r.uvarint('seq');
  const revision = r.uvarint('revision');
  const uid = r.str('uid');
  const owner = r.str('owner');
  const objectType = r.str('objectType');
  const state = r.str('state');
  const flags = r.u8('flags');
  if ((flags & ~(HAS_ALGORITHM | HAS_LENGTH | HAS_MATERIAL)) !== 0) {
    throw new RecordFormatError(`unknown flags 0x${flags.toString(16)}`);
  }
  const names: string[] = [];
  for (let n = r.count('names'); n > 0; n -= 1) names.push(r.str('name'));
  const algorithm = (flags & HAS_ALGORITHM) !== 0 ? r.str('algorithm') : undefined;
  const length = (flags & HAS_LENGTH) !== 0 ? r.f64('length') : undefined;
  const groups: string[] = [];
  for (let n = r.count('groups'); n > 0; n -= 1) groups.push(r.str('group'));
  const custom: (readonly [string, string])[] = [];
  for (let n = r.count('custom'); n > 0; n -= 1) custom.push([r.str('custom name'), r.str('custom value')]);
  const attributes = r.bytes('attributes');
  const material = (flags & HAS_MATERIAL) !== 0 ? r.bytes('material') : undefined;
  r.end();
  // Optional fields are left out, not set to undefined (exactOptionalPropertyTypes; deepEqual with the input).
  const index: LocateIndex = {
    names,
    ...(algorithm !== undefined && { algorithm }),
    ...(length !== undefined && { length }),
    groups,
    custom,
  };
  const object: StoredObject = {
    uid,
    revision,
    owner,
    objectType,
    state,
    index,
    attributes,
    ...(material !== undefined && { material }),
  };
  return { seq, object };
}

/** KEK record, format 1: u8 format=1 | the caller's bytes (the rest of the value). */
export function encodeKek(record: Uint8Array): Uint8Array {
  const out = new Uint8Array(record.length + 1);
  out[0] = KEK_FORMAT;
  out.set(record, 1);
  return out;
}

export function decodeKek(bytes: Uint8Array): Uint8Array {
  const format = bytes[0];
  if (format !== KEK_FORMAT) throw new RecordFormatError(`unknown KEK record format ${format ?? 'none'}`);
  return new Uint8Array(bytes.subarray(1));
}

/** What an index entry points at; the owner rides along so that the owners filter needs no record read. */
export interface IndexEntry {
  readonly uid: string;
  readonly owner: string;
}

/** Index entry value, format 1: u8 format=1 | str uid | str owner. */
export function encodeEntry(entry: IndexEntry): Uint8Array {
  const w = new ByteWriter(16 + entry.uid.length * 3 + entry.owner.length * 3);
  w.u8(ENTRY_FORMAT);
  w.str(entry.uid);
  w.str(entry.owner);
  return w.finish();
}

export function decodeEntry(bytes: Uint8Array): IndexEntry {
  const r = new ByteReader(bytes);
  const format = r.u8('format');
  if (format !== ENTRY_FORMAT) throw new RecordFormatError(`unknown index entry format ${format}`);
  const uid = r.str('uid');
  const owner = r.str('owner');
  r.end();
  return { uid, owner };
}
