import { TtlvError } from './errors.js';
import type { TextNames, TextParseOptions } from './text-names.js';
import {
  AttributeMeaning,
  checkTextDepth,
  formatScalar,
  parseScalar,
  parseTagName,
  parseTypeName,
  typeNameOf,
} from './text-values.js';
import { formatTag, ItemType, type TtlvItem } from './types.js';

/**
 * The KMIP JSON encoding (KMIP Additional Message Encodings 1.0 §4.1): each item is an object
 * `{"tag": name-or-0xhex, "type": type-name, "value": ...}`; a Structure omits `type` and its value is an array.
 */
export interface KmipJsonItem {
  tag: string;
  type?: string;
  value: string | number | boolean | KmipJsonItem[];
}

export function formatKmipJson(item: TtlvItem, names: TextNames): KmipJsonItem {
  return toJson(item, item.tag, names);
}

function toJson(item: TtlvItem, meaningTag: number, names: TextNames): KmipJsonItem {
  const tag = names.tagName(item.tag) ?? `0x${formatTag(item.tag)}`;
  if (item.type === ItemType.Structure) {
    const meaning = new AttributeMeaning(names);
    const value = item.value.map((child) => {
      const json = toJson(child, meaning.meaningTag(child.tag), names);
      meaning.observe(child);
      return json;
    });
    return { tag, value };
  }
  return { tag, type: typeNameOf(item.type), value: formatScalar(item, meaningTag, names, 'json') };
}

/** Converts a parsed JSON value (one item object) to TTLV. */
export function parseKmipJson(json: unknown, names: TextNames, options: TextParseOptions = {}): TtlvItem {
  return fromJson(json, names, options, [], undefined);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fromJson(
  json: unknown,
  names: TextNames,
  options: TextParseOptions,
  parentPath: readonly number[],
  meaning: AttributeMeaning | undefined,
): TtlvItem {
  if (!isRecord(json) || typeof json['tag'] !== 'string') {
    throw new TtlvError('bad-text', -1, parentPath, 'each item must be an object with a string "tag"');
  }
  const tag = parseTagName(json['tag'], names, parentPath);
  const path = [...parentPath, tag];
  const typeText = json['type'];
  if (typeText !== undefined && typeof typeText !== 'string') {
    throw new TtlvError('bad-text', -1, path, '"type" must be a string');
  }
  const type = parseTypeName(typeText, path);
  const raw = json['value'];
  if (type === ItemType.Structure) {
    checkTextDepth(path);
    if (!Array.isArray(raw)) throw new TtlvError('bad-text', -1, path, 'a Structure value must be an array');
    const inner = new AttributeMeaning(names);
    const children = raw.map((child: unknown) => {
      const item = fromJson(child, names, options, path, inner);
      inner.observe(item);
      return item;
    });
    return { tag, type, value: children };
  }
  if (raw === undefined) throw new TtlvError('bad-text', -1, path, 'missing "value"');
  const meaningTag = meaning ? meaning.meaningTag(tag) : tag;
  return parseScalar(type, raw, { tag, meaningTag, path, names, options });
}

/**
 * Reads a JSON document holding one message object or an array of them. Each entry converts on its own, so one bad
 * message does not hide the others.
 */
export function readKmipJsonDocument(text: string): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new TtlvError(
      'bad-text',
      -1,
      [],
      `JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return Array.isArray(parsed) ? parsed : [parsed];
}
