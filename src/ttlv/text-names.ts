import type { ItemTypeName, TagNamer } from './types.js';

/**
 * What the KMIP XML and JSON encodings need to know about names (KMIP Additional Message Encodings 1.0 §4.1, §6.1:
 * tags, enumeration values and mask bits written by their normalized names). The ttlv layer knows none of this
 * itself; the protocol layer injects it for a given KMIP version.
 */
export interface TextNames extends TagNamer {
  /** The tag of a normalized (CamelCase) tag name. */
  tagByName(name: string): number | undefined;
  /** Normalized name of an enumeration value of the tag, if it has one. */
  enumName(tag: number, value: number): string | undefined;
  /** Value of an enumeration name (normalized or spec spelling) for the tag. */
  enumValue(tag: number, name: string): number | undefined;
  /** Whether the tag's Integer value is a bit mask written as names. */
  isMask(tag: number): boolean;
  /** The names of every set bit, or undefined when a set bit has no name. */
  maskNames(tag: number, value: number): string[] | undefined;
  /** The mask value of a list of bit names, or undefined when a name is unknown. */
  maskValue(tag: number, names: readonly string[]): number | undefined;
  /**
   * KMIP 1.x carries attributes as Attribute { Attribute Name (text), Attribute Value }: the value's enumeration or
   * mask is the one of the tag the name denotes. These give the two tags and map a name to its tag.
   */
  readonly attributeNameTag: number | undefined;
  readonly attributeValueTag: number | undefined;
  attributeTag(attributeName: string): number | undefined;
}

/** Options for turning text forms into TTLV. */
export interface TextParseOptions {
  /**
   * The instant, in seconds since the epoch, that `$NOW` and `$NOW+N` / `$NOW-N` placeholders in Date-Time values
   * stand for (conformance vectors use them). Without it such a value is a 'placeholder' error.
   */
  readonly now?: bigint;
  /**
   * Supplies the text of any other `$NAME` placeholder in a value that is not a Text String (a conformance runner
   * substitutes what it learned from earlier responses). Undefined leaves it a 'placeholder' error.
   */
  readonly substitute?: (placeholder: string, type: ItemTypeName) => string | undefined;
}
