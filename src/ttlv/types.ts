/**
 * The TTLV item model (KMIP 1.4 §9.1.1, KMIP 2.1 §9.1.1 "TTLV Encoding Fields").
 *
 * A TTLV item is a 3-byte tag, a 1-byte item type, a 4-byte length and a value padded with zeros to a multiple of
 * 8 bytes. This layer knows tags only as numbers: names are injected by the caller (see TagNamer).
 */

/** Item Type values (KMIP 2.1 §9.1.1.2 Table 218); DateTimeExtended is new in KMIP 2.0. */
export const ItemType = {
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
export type ItemType = (typeof ItemType)[keyof typeof ItemType];
export type ItemTypeName = keyof typeof ItemType;

const itemTypeNames = new Map<number, ItemTypeName>(
  (Object.entries(ItemType) as [ItemTypeName, ItemType][]).map(([name, value]) => [value, name]),
);

/** The name of an item type byte, or undefined when the byte is not a KMIP item type. */
export function itemTypeName(type: number): ItemTypeName | undefined {
  return itemTypeNames.get(type);
}

export function isItemType(type: number): type is ItemType {
  return itemTypeNames.has(type);
}

interface Item<T extends ItemType, V> {
  readonly tag: number;
  readonly type: T;
  readonly value: V;
}

export type StructureItem = Item<typeof ItemType.Structure, readonly TtlvItem[]>;
/** Signed 32-bit. */
export type IntegerItem = Item<typeof ItemType.Integer, number>;
/** Signed 64-bit. */
export type LongIntegerItem = Item<typeof ItemType.LongInteger, bigint>;
/** Two's complement, big-endian, sign-extended to a multiple of 8 bytes. */
export type BigIntegerItem = Item<typeof ItemType.BigInteger, bigint>;
/** Unsigned 32-bit. */
export type EnumerationItem = Item<typeof ItemType.Enumeration, number>;
export type BooleanItem = Item<typeof ItemType.Boolean, boolean>;
export type TextStringItem = Item<typeof ItemType.TextString, string>;
export type ByteStringItem = Item<typeof ItemType.ByteString, Uint8Array>;
/** Seconds since the POSIX epoch, signed 64-bit. */
export type DateTimeItem = Item<typeof ItemType.DateTime, bigint>;
/** Seconds, unsigned 32-bit. */
export type IntervalItem = Item<typeof ItemType.Interval, number>;
/** Microseconds since the POSIX epoch, signed 64-bit (KMIP 2.0). */
export type DateTimeExtendedItem = Item<typeof ItemType.DateTimeExtended, bigint>;

export type TtlvItem =
  | StructureItem
  | IntegerItem
  | LongIntegerItem
  | BigIntegerItem
  | EnumerationItem
  | BooleanItem
  | TextStringItem
  | ByteStringItem
  | DateTimeItem
  | IntervalItem
  | DateTimeExtendedItem;

/** Names tags for messages, error paths and dumps. The ttlv layer never knows names by itself. */
export interface TagNamer {
  tagName(tag: number): string | undefined;
}

/** Formats a tag as the spec writes it: six upper-case hex digits ("42007B"). */
export function formatTag(tag: number): string {
  return tag.toString(16).toUpperCase().padStart(6, '0');
}

/** Constructors that keep the discriminant and value type together. */
export const ttlv = {
  structure: (tag: number, value: readonly TtlvItem[]): StructureItem => ({
    tag,
    type: ItemType.Structure,
    value,
  }),
  integer: (tag: number, value: number): IntegerItem => ({ tag, type: ItemType.Integer, value }),
  longInteger: (tag: number, value: bigint): LongIntegerItem => ({ tag, type: ItemType.LongInteger, value }),
  bigInteger: (tag: number, value: bigint): BigIntegerItem => ({ tag, type: ItemType.BigInteger, value }),
  enumeration: (tag: number, value: number): EnumerationItem => ({ tag, type: ItemType.Enumeration, value }),
  boolean: (tag: number, value: boolean): BooleanItem => ({ tag, type: ItemType.Boolean, value }),
  textString: (tag: number, value: string): TextStringItem => ({ tag, type: ItemType.TextString, value }),
  byteString: (tag: number, value: Uint8Array): ByteStringItem => ({ tag, type: ItemType.ByteString, value }),
  dateTime: (tag: number, value: bigint): DateTimeItem => ({ tag, type: ItemType.DateTime, value }),
  interval: (tag: number, value: number): IntervalItem => ({ tag, type: ItemType.Interval, value }),
  dateTimeExtended: (tag: number, value: bigint): DateTimeExtendedItem => ({
    tag,
    type: ItemType.DateTimeExtended,
    value,
  }),
} as const;
