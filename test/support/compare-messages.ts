/**
 * What the comparator's tests share (src/conformance/compare.ts): KMIP 1.4 response messages written as XML, the
 * expected one read as a vector is (with its placeholders), the actual one as a server's answer at a fixed send time,
 * and the two compared.
 */
import { compareMessages, type CompareOptions } from '../../src/conformance/compare.js';
import { readExpected } from '../../src/conformance/placeholders.js';
import { textNamesFor } from '../../src/kmip/text-names.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { readXmlDocument, xmlElementToTtlv } from '../../src/ttlv/xml.js';

export const names = textNamesFor('1.4');
/** When the request was sent: `$NOW` in the messages, and the middle of the comparator's window. */
export const sentAt = 1_800_000_000n;

/** The first element of an XML text. */
export function element(xml: string) {
  const [first] = readXmlDocument(xml).elements;
  if (!first) throw new Error('no element');
  return first;
}

/** A header Time Stamp. */
export const timeStamp = (value: string): string => `<TimeStamp type="DateTime" value="${value}"/>`;

/**
 * A 1.4 response with one batch item of this operation; `body` follows the Result Status, and `header` (a Time Stamp
 * of `$NOW` unless given) stands before the Batch Count.
 */
export function response(
  operation: string,
  body: string,
  options: { readonly status?: string; readonly header?: string } = {},
): string {
  return `<ResponseMessage><ResponseHeader>
    <ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="4"/></ProtocolVersion>
    ${options.header ?? timeStamp('$NOW')}<BatchCount type="Integer" value="1"/></ResponseHeader>
    <BatchItem><Operation type="Enumeration" value="${operation}"/><ResultStatus type="Enumeration" value="${options.status ?? 'Success'}"/>
    ${body}</BatchItem></ResponseMessage>`;
}

export const payload = (fields: string): string => `<ResponsePayload>${fields}</ResponsePayload>`;
export const uid = (value: string): string => `<UniqueIdentifier type="TextString" value="${value}"/>`;

/** What a comparison may carry over from the file's earlier messages. */
export interface CompareExtra {
  readonly bindings?: Map<string, TtlvItem>;
  readonly generated?: Set<string>;
  readonly fileOperations?: ReadonlySet<string>;
}

/** The first difference between an expected message (with placeholders) and an actual one, or undefined. */
export function compare(expectedXml: string, actualXml: string, extra: CompareExtra = {}) {
  const expected = readExpected(element(expectedXml), '1.4');
  const options: CompareOptions = {
    names,
    placeholders: expected.placeholders,
    bindings: extra.bindings ?? new Map<string, TtlvItem>(),
    sentAt,
    windowSeconds: 120,
    ...(extra.generated ? { generated: extra.generated } : {}),
    ...(extra.fileOperations ? { fileOperations: extra.fileOperations } : {}),
  };
  return compareMessages(
    expected.item,
    xmlElementToTtlv(element(actualXml), names, { now: sentAt }),
    options,
  );
}
