import { SaxesParser } from 'saxes';
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
 * The KMIP XML encoding (KMIP Additional Message Encodings 1.0 §6.1): one element per item, named by the tag's
 * normalized name (or `TTLV` with a `tag="0x54xxxx"` attribute when the registry has no name), with `type` and
 * `value` attributes; a Structure has no `type` and holds its children as elements.
 */

/** A parsed XML element: only what KMIP XML uses. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: XmlElement[];
  readonly line: number;
}

export interface XmlDocument {
  /** Children of the root element (or the root itself when it is a message). */
  readonly elements: readonly XmlElement[];
  readonly rootName: string;
  readonly warnings: readonly string[];
}

/** Container roots used by the OASIS vector files: `KMIP` (1.3 onwards) and `KmipTestCase` (1.0 profiles). */
const containerRoots = new Set(['KMIP', 'KmipTestCase']);

/**
 * Reads an XML document up to the end of its first root element. Anything after it (one vector file has a stray
 * second closing root tag) is reported as a warning, not an error.
 */
export function readXmlDocument(text: string): XmlDocument {
  const parser = new SaxesParser({ position: true });
  const stack: XmlElement[] = [];
  const warnings: string[] = [];
  let root: XmlElement | undefined;
  let done = false;
  let failure: TtlvError | undefined;
  parser.on('error', (error) => {
    if (done) {
      if (warnings.length === 0) warnings.push(`ignored content after the root element: ${error.message}`);
    } else {
      failure ??= new TtlvError('bad-text', -1, [], `XML: ${error.message}`);
    }
  });
  parser.on('opentag', (tag) => {
    if (done || failure) return;
    const attributes: Record<string, string> = {};
    // Without namespace processing saxes gives plain strings; the object form is its namespaced variant.
    const entries = Object.entries(tag.attributes) as [string, string | { value: string }][];
    for (const [key, value] of entries) attributes[key] = typeof value === 'string' ? value : value.value;
    const element: XmlElement = { name: tag.name, attributes, children: [], line: parser.line };
    const parent = stack.at(-1);
    if (parent) parent.children.push(element);
    else root = element;
    stack.push(element);
  });
  parser.on('closetag', () => {
    if (done || failure) return;
    stack.pop();
    if (stack.length === 0) done = true;
  });
  parser.on('text', (content) => {
    if (done || failure || content.trim() === '') return;
    const excerpt = content.trim().slice(0, 40);
    // Some vector files carry '#' notes between messages: harmless there, an error inside a message.
    if (stack.length === 1 && root && containerRoots.has(root.name)) {
      warnings.push(`line ${parser.line}: ignored text between messages '${excerpt}'`);
    } else {
      failure = new TtlvError('bad-text', -1, [], `line ${parser.line}: unexpected text '${excerpt}'`);
    }
  });
  parser.write(text).close();
  if (failure) throw failure;
  if (!root) throw new TtlvError('bad-text', -1, [], 'no root element');
  const elements = containerRoots.has(root.name) ? root.children : [root];
  return { elements, rootName: root.name, warnings };
}

/** Converts one element (a message or any item) to TTLV. */
export function xmlElementToTtlv(
  element: XmlElement,
  names: TextNames,
  options: TextParseOptions = {},
): TtlvItem {
  return convertElement(
    element,
    element.name === 'TTLV' ? undefined : element.name,
    names,
    options,
    [],
    undefined,
  );
}

function convertElement(
  element: XmlElement,
  name: string | undefined,
  names: TextNames,
  options: TextParseOptions,
  parentPath: readonly number[],
  meaning: AttributeMeaning | undefined,
): TtlvItem {
  const tagText = name ?? element.attributes['tag'];
  if (tagText === undefined) {
    throw new TtlvError(
      'bad-text',
      -1,
      parentPath,
      `line ${element.line}: a TTLV element needs a tag attribute`,
    );
  }
  const tag = parseTagName(tagText, names, parentPath);
  const path = [...parentPath, tag];
  const type = parseTypeName(element.attributes['type'], path);
  if (type === ItemType.Structure) {
    checkTextDepth(path);
    if (element.attributes['value'] !== undefined) {
      throw new TtlvError(
        'bad-text',
        -1,
        path,
        `line ${element.line}: a Structure has children, not a value`,
      );
    }
    const inner = new AttributeMeaning(names);
    const children = element.children.map((child) => {
      const item = convertElement(
        child,
        child.name === 'TTLV' ? undefined : child.name,
        names,
        options,
        path,
        inner,
      );
      inner.observe(item);
      return item;
    });
    return { tag, type, value: children };
  }
  if (element.children.length > 0) {
    throw new TtlvError(
      'bad-text',
      -1,
      path,
      `line ${element.line}: a ${typeNameOf(type)} cannot have child elements`,
    );
  }
  const raw = element.attributes['value'];
  if (raw === undefined)
    throw new TtlvError('bad-text', -1, path, `line ${element.line}: missing value attribute`);
  const meaningTag = meaning ? meaning.meaningTag(tag) : tag;
  try {
    return parseScalar(type, raw, { tag, meaningTag, path, names, options });
  } catch (error) {
    if (error instanceof TtlvError) {
      throw new TtlvError(error.code, -1, error.path, `line ${element.line}: ${error.detail}`);
    }
    throw error;
  }
}

/** Parses a document holding exactly one message (or item) as TTLV. */
export function parseKmipXml(text: string, names: TextNames, options: TextParseOptions = {}): TtlvItem {
  const document = readXmlDocument(text);
  const [first, ...rest] = document.elements;
  if (!first || rest.length > 0) {
    throw new TtlvError('bad-text', -1, [], `expected one message, found ${document.elements.length}`);
  }
  return xmlElementToTtlv(first, names, options);
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeAttribute(text: string, path: readonly number[]): string {
  // XML 1.0 cannot carry most C0 controls at all, even as character references.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point of this check
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/.test(text)) {
    throw new TtlvError('bad-text', -1, path, 'text holds a control character that XML 1.0 cannot carry');
  }
  return text.replace(/[&<>"]/g, (c) => escapes[c] ?? c).replace(/[\t\n\r]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Writes an item as indented KMIP XML. */
export function formatKmipXml(item: TtlvItem, names: TextNames, indent = ''): string {
  const lines: string[] = [];
  writeElement(item, names, indent, item.tag, [], lines);
  return lines.join('\n');
}

function writeElement(
  item: TtlvItem,
  names: TextNames,
  indent: string,
  meaningTag: number,
  parentPath: readonly number[],
  lines: string[],
): void {
  const path = [...parentPath, item.tag];
  const known = names.tagName(item.tag);
  const open = known ?? `TTLV tag="0x${formatTag(item.tag)}"`;
  const close = known ?? 'TTLV';
  if (item.type === ItemType.Structure) {
    if (item.value.length === 0) {
      lines.push(`${indent}<${open}/>`);
      return;
    }
    lines.push(`${indent}<${open}>`);
    const meaning = new AttributeMeaning(names);
    for (const child of item.value) {
      writeElement(child, names, `${indent}  `, meaning.meaningTag(child.tag), path, lines);
      meaning.observe(child);
    }
    lines.push(`${indent}</${close}>`);
    return;
  }
  const value = String(formatScalar(item, meaningTag, names, 'xml'));
  lines.push(`${indent}<${open} type="${typeNameOf(item.type)}" value="${escapeAttribute(value, path)}"/>`);
}
