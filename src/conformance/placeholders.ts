/**
 * Placeholders of the OASIS vector files (`$UNIQUE_IDENTIFIER_0`, `$NOW-3600`, `$IV_COUNTER_NONCE` ...): how an
 * expected response keeps them visible in its TTLV tree, and how a request gets them replaced by what earlier
 * responses taught us.
 *
 * The XML reader leaves a Text String placeholder as its literal text, and hands every other one to the
 * `substitute` hook, which must return a parseable value. For expected responses the hook returns a sentinel value
 * (a Byte String with a random per-process prefix, a Date-Time far outside any real clock) that carries the index
 * of the placeholder in a table, so that the comparator can tell a placeholder from a literal value.
 */
import { randomBytes } from 'node:crypto';
import type { KmipVersion } from '../kmip/registry.js';
import { textNamesFor } from '../kmip/text-names.js';
import type { TextNames } from '../ttlv/text-names.js';
import { ItemType, type ItemTypeName, type TtlvItem } from '../ttlv/types.js';
import { xmlElementToTtlv, type XmlElement } from '../ttlv/xml.js';

/** `$` and an upper-case name, as the vector files write them (Text String placeholders stay literal text). */
export const placeholderPattern = /^\$[A-Z][A-Z0-9_]*(?:[+-]\d+)?$/;

export function isPlaceholderText(text: string): boolean {
  return placeholderPattern.test(text);
}

/** Random, so that no server-chosen Byte String can be mistaken for a sentinel. */
const byteSentinelPrefix = new Uint8Array(randomBytes(16));
/** Year 2^62/3.15e7 ≈ 1.4e11: no clock ever reports it. */
const timeSentinelBase = 0x4b4d495000000000n;
const timeSentinelSpan = 0x100000000n;

/** The placeholders of one expected response, in the order the reader met them. */
export class PlaceholderTable {
  readonly names: string[] = [];

  /** The `substitute` hook for reading an expected response. */
  readonly hook = (placeholder: string, type: ItemTypeName): string | undefined => {
    const index = this.names.push(placeholder) - 1;
    if (type === 'ByteString') {
      const suffix = Buffer.alloc(4);
      suffix.writeUInt32BE(index);
      return Buffer.concat([byteSentinelPrefix, suffix]).toString('hex');
    }
    if (type === 'DateTime' || type === 'DateTimeExtended') {
      return `0x${(timeSentinelBase + BigInt(index)).toString(16)}`;
    }
    // No vector puts a placeholder in other types; the reader then reports it and the vector is skipped.
    return undefined;
  };

  /** The placeholder an expected value stands for, or undefined for a literal value. */
  placeholderOf(item: TtlvItem): string | undefined {
    switch (item.type) {
      case ItemType.TextString:
        return isPlaceholderText(item.value) ? item.value : undefined;
      case ItemType.ByteString: {
        const bytes = item.value;
        if (bytes.length !== byteSentinelPrefix.length + 4) return undefined;
        if (!byteSentinelPrefix.every((byte, i) => bytes[i] === byte)) return undefined;
        const index = Buffer.from(bytes).readUInt32BE(byteSentinelPrefix.length);
        return this.names[index];
      }
      case ItemType.DateTime:
      case ItemType.DateTimeExtended: {
        const offset = item.value - timeSentinelBase;
        if (offset < 0n || offset >= timeSentinelSpan) return undefined;
        return this.names[Number(offset)];
      }
      case ItemType.Structure:
      case ItemType.Integer:
      case ItemType.LongInteger:
      case ItemType.BigInteger:
      case ItemType.Enumeration:
      case ItemType.Boolean:
      case ItemType.Interval:
        // The hook gives these no sentinel, so they are never placeholders here.
        return undefined;
    }
  }
}

/** An expected response: its tree (with sentinels) and its placeholder table. Throws TtlvError when unreadable. */
export function readExpected(
  element: XmlElement,
  version: KmipVersion,
): { item: TtlvItem; placeholders: PlaceholderTable } {
  const placeholders = new PlaceholderTable();
  const item = xmlElementToTtlv(element, textNamesFor(version), { substitute: placeholders.hook });
  return { item, placeholders };
}

/** What a request could not be given: the placeholders no earlier response supplied. */
export class UnknownPlaceholderError extends Error {
  override readonly name = 'UnknownPlaceholderError';
  constructor(readonly placeholders: readonly string[]) {
    super(`uses ${placeholders.join(', ')}, which no earlier response supplied`);
  }
}

/** The text form of a learned value, as a replacement for a placeholder of the given type. */
function textOf(item: TtlvItem, type: ItemTypeName): string | undefined {
  if (item.type === ItemType.TextString && type === 'TextString') return item.value;
  if (item.type === ItemType.ByteString && type === 'ByteString')
    return Buffer.from(item.value).toString('hex');
  return undefined;
}

/** The placeholder a vector would write for a field of this tag: `MACData` → `$MAC_DATA`. */
export function placeholderNameOfTag(tagName: string): string {
  const words = tagName.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/([A-Z])([A-Z][a-z])/g, '$1_$2');
  return `$${words.toUpperCase()}`;
}

/**
 * Records, under the placeholder name of its tag, every Byte String and Text String the server put in the
 * response payloads of an answer, the latest answer winning.
 *
 * Why: some vectors expect a literal in a response and then write the request that uses that value with a
 * placeholder no response bound: CS-AC-M-6 (1.3 to 2.1) expects MAC Data `c911…` from MAC, then sends
 * `$MAC_DATA` to MAC Verify. The literal is still compared with what the server said; the next request is given
 * what the server said, as the vector's author meant.
 */
export function recordEchoes(answer: TtlvItem, names: TextNames, echoes: Map<string, TtlvItem>): void {
  const payloadTag = names.tagByName('ResponsePayload');
  const visit = (item: TtlvItem, inPayload: boolean): void => {
    if (item.type === ItemType.Structure) {
      const below = inPayload || item.tag === payloadTag;
      for (const child of item.value) visit(child, below);
      return;
    }
    if (!inPayload || (item.type !== ItemType.ByteString && item.type !== ItemType.TextString)) return;
    const name = names.tagName(item.tag);
    if (name !== undefined) echoes.set(placeholderNameOfTag(name), item);
  };
  visit(answer, false);
}

/**
 * Reads a request with `$NOW` at `now` (seconds) and every other placeholder replaced by the value learned under
 * that name, or else by the value echoed under it (recordEchoes); throws UnknownPlaceholderError naming those that
 * were neither, TtlvError when unreadable.
 */
export function readRequest(
  element: XmlElement,
  version: KmipVersion,
  now: bigint,
  learned: ReadonlyMap<string, TtlvItem>,
  echoes: ReadonlyMap<string, TtlvItem> = new Map(),
): TtlvItem {
  const known = echoes.size === 0 ? learned : new Map([...echoes, ...learned]);
  const missing = new Set<string>();
  const substitute = (placeholder: string, type: ItemTypeName): string | undefined => {
    const value = known.get(placeholder);
    const replacement = value === undefined ? undefined : textOf(value, type);
    if (replacement === undefined) missing.add(placeholder);
    return replacement;
  };
  let item: TtlvItem;
  try {
    item = xmlElementToTtlv(element, textNamesFor(version), { now, substitute });
  } catch (error) {
    // The reader stops at the first unknown placeholder: name it rather than the reader's error.
    if (missing.size > 0) throw new UnknownPlaceholderError([...missing]);
    throw error;
  }
  const replaced = substituteText(item, known, missing);
  if (missing.size > 0) throw new UnknownPlaceholderError([...missing]);
  return replaced;
}

/** Replaces literal Text String placeholders in a tree (the reader leaves them as text). */
export function substituteText(
  item: TtlvItem,
  learned: ReadonlyMap<string, TtlvItem>,
  missing: Set<string>,
): TtlvItem {
  if (item.type === ItemType.Structure) {
    return { ...item, value: item.value.map((child) => substituteText(child, learned, missing)) };
  }
  if (item.type !== ItemType.TextString || !isPlaceholderText(item.value)) return item;
  const value = learned.get(item.value);
  const replacement = value === undefined ? undefined : textOf(value, 'TextString');
  if (replacement === undefined) {
    missing.add(item.value);
    return item;
  }
  return { ...item, value: replacement };
}
