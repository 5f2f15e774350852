import { decodeTtlv } from './decode.js';
import { TtlvError } from './errors.js';
import { encodeTtlv } from './encode.js';
import { formatTag, ItemType, itemTypeName, type TagNamer, type TtlvItem } from './types.js';

/** Lowercase hex, no separators. */
export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * Reads hex written for people: the spec's "42 00 20 | 02 | 00 00 00 04 | ..." style, kmip-go's "420078 | 01 |",
 * with whitespace, '|' separators, an optional leading 0x and '#' comments to the end of a line. Anything else is
 * a TtlvError('bad-text').
 */
export function parseHex(text: string): Buffer {
  const digits = text
    .replace(/#[^\n]*/g, '')
    .replace(/^\s*0x/i, '')
    .replace(/[\s|]/g, '');
  const bad = /[^0-9a-fA-F]/.exec(digits);
  if (bad) throw new TtlvError('bad-text', bad.index, [], `'${bad[0]}' is not a hex digit`);
  if (digits.length % 2 !== 0) throw new TtlvError('bad-text', digits.length, [], 'odd number of hex digits');
  return Buffer.from(digits, 'hex');
}

/**
 * An annotated dump, one item a line: "420078 | 01 | 00000118  RequestMessage (Structure)", the value of
 * primitives after the header, indented by depth. Decodes first, so the dump only ever shows valid TTLV.
 */
export function dumpTtlv(input: Uint8Array | TtlvItem, namer?: TagNamer): string {
  const item = input instanceof Uint8Array ? decodeTtlv(input) : input;
  const bytes = input instanceof Uint8Array ? input : encodeTtlv(item);
  const lines: string[] = [];
  const walk = (node: TtlvItem, offset: number, depth: number): number => {
    const length = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32BE(offset + 4);
    const name = namer?.tagName(node.tag) ?? formatTag(node.tag);
    const head = `${formatTag(node.tag)} | ${node.type.toString(16).padStart(2, '0')} | ${length.toString(16).padStart(8, '0')}`;
    const label = `${'  '.repeat(depth)}${name} (${itemTypeName(node.type) ?? '?'})`;
    if (node.type === ItemType.Structure) {
      lines.push(`${head}  ${label}`);
      let at = offset + 8;
      for (const child of node.value) at = walk(child, at, depth + 1);
      return at;
    }
    const padded = length + ((8 - (length % 8)) % 8);
    const value = toHex(bytes.subarray(offset + 8, offset + 8 + padded));
    lines.push(`${head} | ${value}  ${label}`);
    return offset + 8 + padded;
  };
  walk(item, 0, 0);
  return lines.join('\n');
}
