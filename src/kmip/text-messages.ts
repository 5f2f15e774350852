import { TtlvError } from '../ttlv/errors.js';
import { parseKmipJson, readKmipJsonDocument, formatKmipJson, type KmipJsonItem } from '../ttlv/json.js';
import type { TextParseOptions } from '../ttlv/text-names.js';
import type { TtlvItem } from '../ttlv/types.js';
import { formatKmipXml, readXmlDocument, xmlElementToTtlv, type XmlElement } from '../ttlv/xml.js';
import { peekProtocolVersion } from './message.js';
import { versionOf, type KmipVersion } from './registry.js';
import { textNamesFor } from './text-names.js';

/**
 * Whole KMIP messages in the XML and JSON encodings, read and written with the names of the KMIP version each
 * message declares in its header (Protocol Version, KMIP 1.4 §6.1). A message whose version this server does not
 * know (the KMIP 3.0 drafts) is read with the newest known version's names.
 */

export const newestVersion: KmipVersion = '2.1';

export interface TextMessage {
  /** RequestMessage, ResponseMessage, or whatever the element or object was called. */
  readonly name: string;
  /** Line of the element in an XML document. */
  readonly line?: number;
  /** The version declared in the header (major.minor as written), and the version whose names were used. */
  readonly declaredVersion: string | undefined;
  readonly version: KmipVersion;
  readonly item?: TtlvItem;
  readonly error?: TtlvError;
}

export interface TextMessages {
  readonly messages: readonly TextMessage[];
  readonly warnings: readonly string[];
}

const headerNames = new Set(['RequestHeader', 'ResponseHeader']);

/** The Protocol Version written in an XML message's header, as "major.minor". */
function declaredXmlVersion(message: XmlElement): string | undefined {
  const header = message.children.find((child) => headerNames.has(child.name));
  const version = header?.children.find((child) => child.name === 'ProtocolVersion');
  const major = version?.children.find((child) => child.name === 'ProtocolVersionMajor')?.attributes['value'];
  const minor = version?.children.find((child) => child.name === 'ProtocolVersionMinor')?.attributes['value'];
  return major === undefined || minor === undefined ? undefined : `${major}.${minor}`;
}

function knownVersion(declared: string | undefined): KmipVersion {
  if (declared === undefined) return newestVersion;
  const [major, minor] = declared.split('.').map(Number);
  return versionOf(major ?? -1, minor ?? -1) ?? newestVersion;
}

/** Reads every message of a KMIP XML document (a message, or a `KMIP` / `KmipTestCase` file of them). */
export function readXmlMessages(text: string, options: TextParseOptions = {}): TextMessages {
  const document = readXmlDocument(text);
  const messages = document.elements.map((element): TextMessage => {
    const declaredVersion = declaredXmlVersion(element);
    const version = knownVersion(declaredVersion);
    const base = { name: element.name, line: element.line, declaredVersion, version };
    try {
      return { ...base, item: xmlElementToTtlv(element, textNamesFor(version), options) };
    } catch (error) {
      if (error instanceof TtlvError) return { ...base, error };
      throw error;
    }
  });
  return { messages, warnings: document.warnings };
}

/** The Protocol Version written in a JSON message's header. */
function declaredJsonVersion(message: unknown): string | undefined {
  const children = (value: unknown): unknown[] =>
    typeof value === 'object' && value !== null && Array.isArray((value as { value?: unknown }).value)
      ? (value as { value: unknown[] }).value
      : [];
  const named = (list: unknown[], names: ReadonlySet<string>): unknown =>
    list.find((entry) => names.has(String((entry as { tag?: unknown } | null)?.tag)));
  const header = named(children(message), headerNames);
  const version = named(children(header), new Set(['ProtocolVersion']));
  const major = named(children(version), new Set(['ProtocolVersionMajor'])) as
    { value?: unknown } | undefined;
  const minor = named(children(version), new Set(['ProtocolVersionMinor'])) as
    { value?: unknown } | undefined;
  const number = (value: unknown): string | undefined =>
    typeof value === 'number' || typeof value === 'string' ? String(value) : undefined;
  const majorText = number(major?.value);
  const minorText = number(minor?.value);
  return majorText === undefined || minorText === undefined ? undefined : `${majorText}.${minorText}`;
}

/** Reads every message of a KMIP JSON document (one message object or an array of them). */
export function readJsonMessages(text: string, options: TextParseOptions = {}): TextMessages {
  const messages = readKmipJsonDocument(text).map((json): TextMessage => {
    const declaredVersion = declaredJsonVersion(json);
    const version = knownVersion(declaredVersion);
    const tag = (json as { tag?: unknown } | null)?.tag;
    const name = typeof tag === 'string' ? tag : '?';
    try {
      return { name, declaredVersion, version, item: parseKmipJson(json, textNamesFor(version), options) };
    } catch (error) {
      if (error instanceof TtlvError) return { name, declaredVersion, version, error };
      throw error;
    }
  });
  return { messages, warnings: [] };
}

/** The KMIP version a decoded message declares, or undefined when it has no readable Protocol Version. */
export function versionOfMessage(message: TtlvItem): KmipVersion | undefined {
  const declared = peekProtocolVersion(message);
  return declared === undefined ? undefined : versionOf(declared.major, declared.minor);
}

/** Writes a message as KMIP XML with the names of its own version. */
export function messageToXml(message: TtlvItem): string {
  return formatKmipXml(message, textNamesFor(versionOfMessage(message) ?? newestVersion));
}

/** Writes a message as KMIP JSON with the names of its own version. */
export function messageToJson(message: TtlvItem): KmipJsonItem {
  return formatKmipJson(message, textNamesFor(versionOfMessage(message) ?? newestVersion));
}
