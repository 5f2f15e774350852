import { formatTag, type TagNamer } from './types.js';

/**
 * Why a byte sequence is not valid TTLV. Each code names one rule of KMIP 1.4 §9.1 / KMIP 2.1 §9.1 that the input
 * broke, so a client can be told precisely what it sent wrong.
 */
export type TtlvErrorCode =
  /** The input ends inside an item header or value. */
  | 'truncated'
  /** A length that the item type does not allow (fixed-size types, BigInteger not a multiple of 8). */
  | 'bad-length'
  /** A padding byte that is not zero (§9.1.2: values are padded with zeros to a multiple of 8 bytes). */
  | 'bad-padding'
  /** A type byte that is not a KMIP item type. */
  | 'bad-type'
  /** A tag outside the ranges KMIP defines (0x42xxxx for the spec, 0x54xxxx for extensions). */
  | 'bad-tag'
  /** A value the type does not allow: a Boolean other than 0 or 1, an out-of-range number on encode. */
  | 'bad-value'
  /** A Text String that is not valid UTF-8. */
  | 'bad-utf8'
  /** Children of a Structure that do not add up exactly to the Structure's length. */
  | 'length-mismatch'
  /** Structures nested deeper than the configured limit. */
  | 'too-deep'
  /** A message or item longer than the configured limit. */
  | 'too-large'
  /** Bytes left after the top-level item. */
  | 'trailing-bytes'
  /** A frame header that is not a KMIP message (not a 0x42xxxx Structure). */
  | 'bad-header'
  /** Text-form (XML/JSON/hex) input that cannot be turned into TTLV. */
  | 'bad-text'
  /** A `$...` test-vector placeholder where no value for it was supplied. */
  | 'placeholder';

/** " at offset N" for errors about bytes; nothing for text-form errors, whose detail names the line. */
const at = (offset: number): string => (offset >= 0 ? ` at offset ${offset}` : '');

/** A typed, never-crashing decode/encode failure: what rule, at which byte, under which tags. */
export class TtlvError extends Error {
  override readonly name = 'TtlvError';
  readonly code: TtlvErrorCode;
  /** Byte offset into the decoded buffer (or -1 when not about bytes). */
  readonly offset: number;
  /** Tags from the root to the item at fault. */
  readonly path: readonly number[];
  readonly detail: string;

  constructor(code: TtlvErrorCode, offset: number, path: readonly number[], detail: string) {
    super(`${code}${at(offset)}${path.length > 0 ? ` (${path.map(formatTag).join('/')})` : ''}: ${detail}`);
    this.code = code;
    this.offset = offset;
    this.path = path;
    this.detail = detail;
  }

  /** The tag path with names where the namer knows them: "RequestMessage/BatchItem/420099". */
  formatPath(namer?: TagNamer): string {
    return this.path.map((tag) => namer?.tagName(tag) ?? formatTag(tag)).join('/');
  }

  /** The message with tag names resolved, for people. */
  describe(namer?: TagNamer): string {
    const path = this.formatPath(namer);
    return `${this.code}${at(this.offset)}${path === '' ? '' : ` (${path})`}: ${this.detail}`;
  }
}
