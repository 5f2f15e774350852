import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import { FieldError, Fields } from './fields.js';
import { kmipVersions, versionOf, type KmipVersion } from './registry.js';
import { enumValues, tags, versionHasTag } from './vocabulary.js';

/**
 * Request and response messages (KMIP 1.4 §7.1-7.2 and §6; KMIP 2.1 §8-9): the header and batch items, decoded from
 * a TTLV tree into typed values and encoded back, in the version of the request.
 */

const T = tags(
  'RequestMessage',
  'ResponseMessage',
  'RequestHeader',
  'ResponseHeader',
  'ProtocolVersion',
  'ProtocolVersionMajor',
  'ProtocolVersionMinor',
  'BatchCount',
  'BatchItem',
  'Operation',
  'UniqueBatchItemID',
  'ResponsePayload',
  'ResultStatus',
  'ResultReason',
  'ResultMessage',
  'TimeStamp',
  'ClientCorrelationValue',
  'ServerCorrelationValue',
);

export const BatchErrorContinuation = enumValues('BatchErrorContinuationOption', 'Continue', 'Stop', 'Undo');
export const ResultStatus = enumValues(
  'ResultStatus',
  'Success',
  'OperationFailed',
  'OperationPending',
  'OperationUndone',
);

export interface ProtocolVersion {
  readonly major: number;
  readonly minor: number;
}

export interface Credential {
  readonly type: number;
  readonly value: Fields | undefined;
}

export interface RequestHeader {
  /** As the client wrote it. */
  readonly protocolVersion: ProtocolVersion;
  /** The version this server speaks back: the request's, or the highest known minor of its major. */
  readonly version: KmipVersion;
  readonly maximumResponseSize: number | undefined;
  readonly asynchronousIndicator: boolean | undefined;
  readonly credentials: readonly Credential[];
  readonly batchErrorContinuationOption: number | undefined;
  readonly batchOrderOption: boolean | undefined;
  readonly batchCount: number;
  readonly clientCorrelationValue: string | undefined;
  readonly serverCorrelationValue: string | undefined;
}

export interface RequestBatchItem {
  readonly operation: number;
  readonly uniqueBatchItemId: Uint8Array | undefined;
  readonly payload: TtlvItem | undefined;
  readonly path: string;
}

export interface RequestMessage {
  readonly header: RequestHeader;
  readonly items: readonly RequestBatchItem[];
}

/**
 * The KMIP version to answer a Protocol Version in: the same one, or for an unknown newer minor version the
 * highest minor of the same major (a minor version only adds to its predecessors). Undefined for an unknown major.
 */
export function answerVersion(version: ProtocolVersion): KmipVersion | undefined {
  const exact = versionOf(version.major, version.minor);
  if (exact) return exact;
  const sameMajor = kmipVersions.filter((v) => v.startsWith(`${version.major}.`));
  const highest = sameMajor.at(-1);
  if (highest === undefined) return undefined;
  return version.minor > Number(highest.split('.')[1]) ? highest : undefined;
}

/**
 * Reads the Protocol Version of a request or response tree without trusting anything else in it (for error replies
 * and for choosing the names of a message's version).
 */
export function peekProtocolVersion(message: TtlvItem): ProtocolVersion | undefined {
  if (message.type !== ItemType.Structure) return undefined;
  const header = message.value.find((c) => c.tag === T.RequestHeader || c.tag === T.ResponseHeader);
  if (header?.type !== ItemType.Structure) return undefined;
  const pv = header.value.find((c) => c.tag === T.ProtocolVersion);
  if (pv?.type !== ItemType.Structure) return undefined;
  const major = pv.value.find((c) => c.tag === T.ProtocolVersionMajor);
  const minor = pv.value.find((c) => c.tag === T.ProtocolVersionMinor);
  if (major?.type !== ItemType.Integer || minor?.type !== ItemType.Integer) return undefined;
  return { major: major.value, minor: minor.value };
}

/** Decodes a Request Message. Throws FieldError naming the field for anything a client got wrong. */
export function decodeRequestMessage(message: TtlvItem, version: KmipVersion): RequestMessage {
  if (message.tag !== T.RequestMessage) {
    throw new FieldError('bad-value', 'RequestMessage', 'the message is not a Request Message');
  }
  const root = new Fields(message, version, 'RequestMessage');
  const headerFields = root.requiredStruct('RequestHeader');
  const pv = headerFields.requiredStruct('ProtocolVersion');
  const protocolVersion = {
    major: pv.integer('ProtocolVersionMajor') ?? -1,
    minor: pv.integer('ProtocolVersionMinor') ?? -1,
  };
  const authentication = headerFields.struct('Authentication');
  const credentials = (authentication?.structs('Credential') ?? []).map((c) => ({
    type: c.requiredEnumeration('CredentialType'),
    value: c.struct('CredentialValue'),
  }));
  const batchCount = headerFields.integer('BatchCount');
  if (batchCount === undefined)
    throw new FieldError('missing', 'RequestMessage/RequestHeader/BatchCount', 'is required');
  const header: RequestHeader = {
    protocolVersion,
    version,
    maximumResponseSize: headerFields.integer('MaximumResponseSize'),
    asynchronousIndicator: headerFields.boolean('AsynchronousIndicator'),
    credentials,
    batchErrorContinuationOption: headerFields.enumeration('BatchErrorContinuationOption'),
    batchOrderOption: headerFields.boolean('BatchOrderOption'),
    batchCount,
    clientCorrelationValue: headerFields.text('ClientCorrelationValue'),
    serverCorrelationValue: headerFields.text('ServerCorrelationValue'),
  };
  const items = root.all('BatchItem').map((item, i): RequestBatchItem => {
    const path = `RequestMessage/BatchItem[${i}]`;
    const fields = new Fields(item, version, path);
    return {
      operation: fields.requiredEnumeration('Operation'),
      uniqueBatchItemId: fields.bytes('UniqueBatchItemID'),
      payload: fields.optional('RequestPayload'),
      path,
    };
  });
  if (items.length === 0)
    throw new FieldError('missing', 'RequestMessage/BatchItem', 'a request needs a batch item');
  if (items.length !== batchCount) {
    throw new FieldError(
      'bad-value',
      'RequestMessage/RequestHeader/BatchCount',
      `says ${batchCount} but the message holds ${items.length} batch items`,
    );
  }
  return { header, items };
}

export interface ResponseBatchItem {
  readonly operation: number | undefined;
  readonly uniqueBatchItemId: Uint8Array | undefined;
  readonly resultStatus: number;
  readonly resultReason?: number;
  readonly resultMessage?: string;
  readonly payload?: TtlvItem;
}

export interface ResponseHeaderFields {
  readonly protocolVersion: ProtocolVersion;
  readonly version: KmipVersion;
  readonly timeStamp: bigint;
  readonly clientCorrelationValue?: string | undefined;
  readonly serverCorrelationValue?: string | undefined;
}

/**
 * Encodes a Response Message in the request's version: a field the version does not define is left out, so that a
 * strict 1.0 client never sees a 1.4 or 2.x field (KMIP 1.4 §7.2).
 */
export function encodeResponseMessage(
  header: ResponseHeaderFields,
  items: readonly ResponseBatchItem[],
): TtlvItem {
  const has = (t: number): boolean => versionHasTag(header.version, t);
  const headerItems: TtlvItem[] = [
    ttlv.structure(T.ProtocolVersion, [
      ttlv.integer(T.ProtocolVersionMajor, header.protocolVersion.major),
      ttlv.integer(T.ProtocolVersionMinor, header.protocolVersion.minor),
    ]),
    ttlv.dateTime(T.TimeStamp, header.timeStamp),
  ];
  if (header.clientCorrelationValue !== undefined && has(T.ClientCorrelationValue)) {
    headerItems.push(ttlv.textString(T.ClientCorrelationValue, header.clientCorrelationValue));
  }
  if (header.serverCorrelationValue !== undefined && has(T.ServerCorrelationValue)) {
    headerItems.push(ttlv.textString(T.ServerCorrelationValue, header.serverCorrelationValue));
  }
  headerItems.push(ttlv.integer(T.BatchCount, items.length));
  return ttlv.structure(T.ResponseMessage, [
    ttlv.structure(T.ResponseHeader, headerItems),
    ...items.map((item) => encodeResponseBatchItem(item)),
  ]);
}

function encodeResponseBatchItem(item: ResponseBatchItem): TtlvItem {
  const out: TtlvItem[] = [];
  if (item.operation !== undefined) out.push(ttlv.enumeration(T.Operation, item.operation));
  if (item.uniqueBatchItemId !== undefined)
    out.push(ttlv.byteString(T.UniqueBatchItemID, item.uniqueBatchItemId));
  out.push(ttlv.enumeration(T.ResultStatus, item.resultStatus));
  if (item.resultReason !== undefined) out.push(ttlv.enumeration(T.ResultReason, item.resultReason));
  if (item.resultMessage !== undefined) {
    out.push(ttlv.textString(T.ResultMessage, asciiResultMessage(item.resultMessage)));
  }
  if (item.payload !== undefined) out.push(item.payload);
  return ttlv.structure(T.BatchItem, out);
}

/** Typography the server's own messages may use, spelled in ASCII. */
const asciiSpelling: Readonly<Record<string, string>> = {
  '±': '+/-',
  µ: 'u',
  '—': '-',
  '–': '-',
  '≈': '~',
  '→': '->',
  '‘': "'",
  '’': "'",
  '“': '"',
  '”': '"',
};

/**
 * The Result Message as ASCII. KMIP lets a Text String hold any UTF-8 (1.4 §9.1.1.4), but widely used clients
 * (PyKMIP's TextString.read_value among them) decode a Text String one byte at a time and fail on the first
 * multi-byte character, so the client would show a decoding error instead of the reason the server gave. Known
 * typography is spelled out; any other character, such as one echoed from a stored name, and any control character
 * but tab and newline, is written as \uXXXX so that the client still sees which character it was.
 */
export function asciiResultMessage(text: string): string {
  return text.replace(/§ ?/gu, 'section ').replace(/[^\x20-\x7e\t\n]/gu, (char) => {
    const spelled = asciiSpelling[char];
    if (spelled !== undefined) return spelled;
    const code = char.codePointAt(0) ?? 0;
    return code > 0xffff ? `\\u{${code.toString(16)}}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** The Response Payload structure around a list of fields. */
export function responsePayload(fields: readonly TtlvItem[]): TtlvItem {
  return ttlv.structure(T.ResponsePayload, fields);
}
