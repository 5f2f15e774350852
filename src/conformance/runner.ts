/**
 * Runs vector files against a server: one connection per file, each RequestMessage sent in order with the
 * placeholders learned so far, each answer compared with the expected ResponseMessage. A file stops at its first
 * difference, since later messages build on earlier ones.
 */
import { readFile } from 'node:fs/promises';
import { readXmlMessages } from '../kmip/text-messages.js';
import { textNamesFor } from '../kmip/text-names.js';
import { tag } from '../kmip/vocabulary.js';
import { TtlvError } from '../ttlv/errors.js';
import type { TextNames } from '../ttlv/text-names.js';
import { ItemType, type TtlvItem } from '../ttlv/types.js';
import { readXmlDocument, type XmlElement } from '../ttlv/xml.js';
import { TransportUnavailableError, type KmipExchange } from './client.js';
import { compareMessages, DEFAULT_WINDOW_SECONDS, type Difference } from './compare.js';
import { readExpected, readRequest, recordEchoes, UnknownPlaceholderError } from './placeholders.js';
import type { SkipList } from './skip-list.js';
import type { VectorFile } from './vectors.js';

export type Verdict = 'passed' | 'failed' | 'skipped';

export interface VectorOutcome {
  readonly vector: VectorFile;
  readonly verdict: Verdict;
  /** Why it was skipped, or why it failed when the failure is not a difference (connection lost ...). */
  readonly reason?: string;
  /** The request (1-based) whose exchange failed or could not be made. */
  readonly message?: number;
  readonly difference?: Difference;
  /** What the server said about the batch items it did not complete (Result Reason: Result Message). */
  readonly serverSaid?: string;
  /** The server's whole answer to the request that differed, for showing beside the vector's expectation. */
  readonly answer?: TtlvItem;
  /** Requests in the file. */
  readonly requests: number;
}

export interface RunOptions {
  /** A fresh connection for one file (connectFor picks the transport its profile tests). */
  readonly connect: (vector: VectorFile) => Promise<KmipExchange>;
  readonly skipList: SkipList;
  readonly windowSeconds?: number;
  /** Called after each file, for progress. */
  readonly onOutcome?: (outcome: VectorOutcome, index: number, total: number) => void;
  /** The clock, in milliseconds; `$NOW` is this at the moment a request is sent. */
  readonly now?: () => number;
  /**
   * Unique Identifiers of the objects the server generated, kept across files: a file may use what an earlier one
   * of its profile made (TL-M-3 Gets the key TL-M-2 created). One per runVectors call when not given.
   */
  readonly generated?: Set<string>;
}

export async function runVectors(
  vectors: readonly VectorFile[],
  options: RunOptions,
): Promise<VectorOutcome[]> {
  const outcomes: VectorOutcome[] = [];
  const shared = { ...options, generated: options.generated ?? new Set<string>() };
  for (const [index, vector] of vectors.entries()) {
    const outcome = await runVector(vector, shared);
    outcomes.push(outcome);
    options.onOutcome?.(outcome, index, vectors.length);
  }
  return outcomes;
}

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export async function runVector(vector: VectorFile, options: RunOptions): Promise<VectorOutcome> {
  const skipReason = options.skipList.reasonFor(vector.key);
  const skipped = (reason: string, requests: number, message?: number): VectorOutcome => ({
    vector,
    verdict: 'skipped',
    reason,
    requests,
    ...(message === undefined ? {} : { message }),
  });
  if (skipReason !== undefined) return skipped(skipReason, 0);
  let text: string;
  let elements;
  let versions;
  try {
    text = await readFile(vector.path, 'utf8');
    elements = readXmlDocument(text).elements;
    versions = readXmlMessages(text).messages.map((message) => message.version);
  } catch (error) {
    return skipped(`the file does not read as KMIP XML: ${errorText(error)}`, 0);
  }
  const requests = Math.ceil(elements.length / 2);
  const pairsOk =
    elements.length > 0 &&
    elements.length % 2 === 0 &&
    elements.every((e, i) => e.name === (i % 2 === 0 ? 'RequestMessage' : 'ResponseMessage'));
  if (!pairsOk) {
    return skipped('the file is not a sequence of RequestMessage / ResponseMessage pairs', requests);
  }
  let client: KmipExchange;
  try {
    client = await options.connect(vector);
  } catch (error) {
    if (error instanceof TransportUnavailableError) return skipped(error.message, requests);
    return { vector, verdict: 'failed', reason: `cannot connect: ${errorText(error)}`, requests, message: 1 };
  }
  const clock = options.now ?? Date.now;
  const learned = new Map<string, TtlvItem>();
  const echoes = new Map<string, TtlvItem>();
  const generated = options.generated ?? new Set<string>();
  const fileOperations = operationsOf(elements.filter((_, i) => i % 2 === 0));
  try {
    for (let i = 0; i + 1 < elements.length; i += 2) {
      const message = i / 2 + 1;
      const requestElement = elements[i];
      const responseElement = elements[i + 1];
      const version = versions[i];
      const responseVersion = versions[i + 1];
      if (!requestElement || !responseElement || !version || !responseVersion) break;
      const sentAt = BigInt(Math.floor(clock() / 1000));
      let request: TtlvItem;
      let expected;
      try {
        request = readRequest(requestElement, version, sentAt, learned, echoes);
        expected = readExpected(responseElement, responseVersion);
      } catch (error) {
        if (error instanceof UnknownPlaceholderError || error instanceof TtlvError) {
          const what = error instanceof UnknownPlaceholderError ? 'the request' : 'the vector';
          return skipped(`message ${message}: ${what} ${errorText(error)}`, requests, message);
        }
        throw error;
      }
      let answer: TtlvItem;
      try {
        answer = await client.request(request);
      } catch (error) {
        return { vector, verdict: 'failed', reason: errorText(error), requests, message };
      }
      // Init Indicator True starts a new multi-part operation, and the vectors name its Correlation Value with the
      // placeholder the previous operation of the file used (TC-STREAM-ENC-2, -ENCDEC-1, -MAC-1): learned anew.
      if (startsOperation(request)) {
        for (const name of [...learned.keys()])
          if (name.startsWith('$CORRELATION_VALUE')) learned.delete(name);
      }
      const difference = compareMessages(expected.item, answer, {
        names: textNamesFor(responseVersion),
        placeholders: expected.placeholders,
        bindings: learned,
        generated,
        fileOperations,
        sentAt,
        windowSeconds: options.windowSeconds ?? DEFAULT_WINDOW_SECONDS,
      });
      if (difference) {
        const said = serverComplaints(answer, textNamesFor(responseVersion));
        return {
          vector,
          verdict: 'failed',
          difference,
          requests,
          message,
          answer,
          ...(said === undefined ? {} : { serverSaid: said }),
        };
      }
      recordEchoes(answer, textNamesFor(responseVersion), echoes);
    }
    return { vector, verdict: 'passed', requests };
  } finally {
    client.close();
  }
}

const initIndicatorTag = tag('InitIndicator');

/** Whether a request holds an Init Indicator of True anywhere (the first part of a multi-part operation). */
function startsOperation(item: TtlvItem): boolean {
  if (item.tag === initIndicatorTag) return item.type === ItemType.Boolean && item.value;
  return item.type === ItemType.Structure && item.value.some(startsOperation);
}

/** The Result Reason and Result Message of each batch item that did not succeed: the server's own explanation. */
function serverComplaints(answer: TtlvItem, names: TextNames): string | undefined {
  const child = (item: TtlvItem, name: string): TtlvItem | undefined =>
    item.type === ItemType.Structure ? item.value.find((c) => c.tag === names.tagByName(name)) : undefined;
  if (answer.type !== ItemType.Structure) return undefined;
  const said: string[] = [];
  for (const batchItem of answer.value.filter((c) => c.tag === names.tagByName('BatchItem'))) {
    const reason = child(batchItem, 'ResultReason');
    const text = child(batchItem, 'ResultMessage');
    if (reason === undefined && text === undefined) continue;
    const reasonName =
      reason?.type === ItemType.Enumeration
        ? (names.enumName(reason.tag, reason.value) ?? String(reason.value))
        : '';
    said.push(
      [reasonName, text?.type === ItemType.TextString ? text.value : ''].filter((s) => s !== '').join(': '),
    );
  }
  return said.length === 0 ? undefined : said.join('; ');
}

/** The Operation names the requests of a vector file use (for the comparator's Query rule). */
function operationsOf(requests: readonly XmlElement[]): Set<string> {
  const found = new Set<string>();
  const walk = (element: XmlElement): void => {
    const value = element.attributes['value'];
    if (element.name === 'Operation' && value !== undefined) found.add(value);
    for (const child of element.children) walk(child);
  };
  for (const request of requests) walk(request);
  return found;
}
