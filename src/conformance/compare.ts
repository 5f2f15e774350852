/**
 * Compares a server's response with the expected response of a vector file, item by item and in order: tag, type,
 * value and the number of children must all agree. The only tolerances are the ones the vectors ask for:
 * - a `$NAME` placeholder matches any value of its type and binds it (a name seen before must match its binding);
 * - `$NOW±N` Date-Times match within a window around the time the request was sent;
 * - the Response Header's Time Stamp (any value) and Server Correlation Value (present or not) are the server's;
 * - a Result Message is the server's own wording (KMIP 1.4 §6.17 "contains a more descriptive error message"): it
 *   must be there when expected, its text is not compared (the vectors carry one server's words, "DENIED");
 * - the Data of an RNG Retrieve response is random by definition (KMIP 1.4 §4.35): only its length is compared;
 * - an Encrypt response that returns an IV/Counter/Nonce returns one the server chose (KMIP 1.4 §4.29 Table 230):
 *   that IV, and the Data encrypted under it, are compared by length only, and bound as `$IV_COUNTER_NONCE` and
 *   the next `$DATA_n` for the requests that use them (the vectors write the reference server's values there);
 * - about an object the server generated (Create, Create Key Pair, Re-key, Derive Key, and the parts of Create Split
 *   Key, whose polynomial the server drew at random), its Key Material (which the server chose at random) and
 *   Digest Value (a hash of it) are compared by length, and its Random Number Generator attribute (the server's own
 *   generator, KMIP 1.4 §3.44) by presence;
 * - a Query answer's lists of Operations and Object Types, Vendor Identification and Server Information describe
 *   the server (KMIP 1.4 §4.25), and the vectors give the reference server's, in its order: they are compared as
 *   the server's own, which must be there when expected, and the Operations must name every operation this file's
 *   requests use that the expected list names;
 * - a vector recorded with literal times instead of `$NOW` (the 1.0 profile files, whose Time Stamps and attribute
 *   times even come from different runs) has each literal Date-Time that differs stand for a time of this run: it
 *   binds to the first actual time met for it, which must be within the window of when the request was sent, and
 *   every later use of that literal must give the same time, give or take the second a run may cross between two
 *   requests (see compareRecordedTime).
 */
import { registryFor } from '../kmip/registry.js';
import type { TextNames } from '../ttlv/text-names.js';
import { AttributeMeaning, formatScalar } from '../ttlv/text-values.js';
import { formatTag, ItemType, itemTypeName, type TtlvItem } from '../ttlv/types.js';
import type { PlaceholderTable } from './placeholders.js';

export interface Difference {
  /** Tag names from the message down, e.g. ResponseMessage/BatchItem/ResultReason; `[n]` for repeated tags. */
  readonly path: string;
  readonly expected: string;
  readonly actual: string;
}

export interface CompareOptions {
  readonly names: TextNames;
  readonly placeholders: PlaceholderTable;
  /** Values learned so far in this file; new bindings are added to it. */
  readonly bindings: Map<string, TtlvItem>;
  /** When the request was sent, in seconds since the epoch: what `$NOW` stands for. */
  readonly sentAt: bigint;
  /** How far a `$NOW±N` Date-Time may be from sentAt±N, in seconds. */
  readonly windowSeconds: number;
  /** Unique Identifiers of the objects the server generated in this file (Create, Create Key Pair, ...). */
  readonly generated?: Set<string>;
  /** The Operation names the file's requests use (the Query rule, see the file comment). */
  readonly fileOperations?: ReadonlySet<string>;
  /** Set inside the response payload about such an object (see the file comment). */
  readonly aboutGenerated?: boolean;
  /** The literal Time Stamp of the expected response, when the vector was recorded with literal times. */
  readonly recordedAt?: bigint;
}

export const DEFAULT_WINDOW_SECONDS = 120;
/** How far a later use of a recorded literal time may be from the time it bound to (compareRecordedTime). */
const RECORDED_TIME_DRIFT = 1n;

const tagOf = (name: string): number => {
  // Tag numbers do not change between versions; the newest registry knows every header field.
  const tag = registryFor('2.1').tagByName(name)?.value;
  if (tag === undefined) throw new Error(`no tag ${name}`);
  return tag;
};
const responseHeaderTag = tagOf('ResponseHeader');
const timeStampTag = tagOf('TimeStamp');
const serverCorrelationTag = tagOf('ServerCorrelationValue');
const batchItemTag = tagOf('BatchItem');
const resultMessageTag = tagOf('ResultMessage');
const operationTag = tagOf('Operation');
const responsePayloadTag = tagOf('ResponsePayload');
const dataTag = tagOf('Data');
const rngRetrieve = registryFor('2.1').enumValue(operationTag, 'RNGRetrieve');
const encryptOperation = registryFor('2.1').enumValue(operationTag, 'Encrypt');
const queryOperation = registryFor('2.1').enumValue(operationTag, 'Query');
const objectTypeTag = tagOf('ObjectType');
/** What a Query answer says about the server itself (KMIP 1.4 §4.25): its lists, its vendor, its information. */
const serverDescription = new Set(
  ['Operation', 'ObjectType', 'VendorIdentification', 'ServerInformation'].map(tagOf),
);
const vendorTag = tagOf('VendorIdentification');
const ivTag = tagOf('IVCounterNonce');
const digestValueTag = tagOf('DigestValue');
const keyMaterialTag = tagOf('KeyMaterial');
const rngAttributeTag = tagOf('RandomNumberGenerator');
const attributeTag = tagOf('Attribute');
const attributeNameTag = tagOf('AttributeName');
const attributeValueTag = tagOf('AttributeValue');
const uniqueIdentifierTag = tagOf('UniqueIdentifier');
const generatingOperations = new Set(
  ['Create', 'CreateKeyPair', 'ReKey', 'ReKeyKeyPair', 'DeriveKey', 'CreateSplitKey'].flatMap(
    (name) => registryFor('2.1').enumValue(operationTag, name) ?? [],
  ),
);
const generatedUidTags = new Set(
  ['UniqueIdentifier', 'PrivateKeyUniqueIdentifier', 'PublicKeyUniqueIdentifier'].map(tagOf),
);

/**
 * A literal time of a vector recorded without `$NOW`: it stands for a time of this run, so it binds (like a
 * placeholder named by its value) to the first actual time met for it, which must lie within the window of when
 * the request was sent; later uses of the same literal must give the same actual time.
 */
function compareRecordedTime(
  expected: bigint,
  actual: TtlvItem & { type: typeof ItemType.DateTime },
  options: CompareOptions,
  staged: Map<string, TtlvItem>,
  path: string,
  meaningTag: number,
): Difference | undefined {
  const name = `@recorded-time:${String(expected)}`;
  const bound = staged.get(name) ?? options.bindings.get(name);
  const shown = show(actual, meaningTag, options.names);
  if (bound !== undefined) {
    // The recording server wrote those times within one second; this one may cross a second boundary between
    // the requests that set them, so a later use may be a second off (never more).
    if (bound.type === ItemType.DateTime) {
      const drift = actual.value - bound.value;
      if (drift >= -RECORDED_TIME_DRIFT && drift <= RECORDED_TIME_DRIFT) return undefined;
    }
    return {
      path,
      expected: `the time first given for this recorded time (±${String(RECORDED_TIME_DRIFT)}s): ${show(bound, meaningTag, options.names)}`,
      actual: shown,
    };
  }
  const distance = actual.value - options.sentAt;
  if (distance < -BigInt(options.windowSeconds) || distance > BigInt(options.windowSeconds)) {
    return {
      path,
      expected: `a recorded time standing for now (±${String(options.windowSeconds)}s)`,
      actual: shown,
    };
  }
  staged.set(name, actual);
  return undefined;
}

/** The expected response header's Time Stamp when it is a literal time (not `$NOW`). */
function literalTimeStamp(expected: TtlvItem, placeholders: PlaceholderTable): bigint | undefined {
  if (expected.type !== ItemType.Structure) return undefined;
  const header = expected.value.find((c) => c.tag === responseHeaderTag);
  if (header?.type !== ItemType.Structure) return undefined;
  const stamp = header.value.find((c) => c.tag === timeStampTag);
  if (stamp?.type !== ItemType.DateTime || placeholders.placeholderOf(stamp) !== undefined) return undefined;
  return stamp.value;
}

/** Notes the objects a response says the server generated. */
function noteGenerated(actual: TtlvItem, generated: Set<string> | undefined): void {
  if (generated === undefined || actual.type !== ItemType.Structure) return;
  for (const item of actual.value) {
    if (item.tag !== batchItemTag || item.type !== ItemType.Structure) continue;
    const operation = item.value.find((c) => c.tag === operationTag);
    if (operation?.type !== ItemType.Enumeration || !generatingOperations.has(operation.value)) continue;
    for (const payload of item.value) {
      if (payload.tag !== responsePayloadTag || payload.type !== ItemType.Structure) continue;
      for (const c of payload.value) {
        if (generatedUidTags.has(c.tag) && c.type === ItemType.TextString) generated.add(c.value);
      }
    }
  }
}

const nowPattern = /^\$NOW(?:([+-])(\d+))?$/;

/** The first difference between an expected and an actual message, or undefined when they agree. */
export function compareMessages(
  expected: TtlvItem,
  actual: TtlvItem,
  options: CompareOptions,
): Difference | undefined {
  noteGenerated(actual, options.generated);
  const recordedAt = literalTimeStamp(expected, options.placeholders);
  if (recordedAt !== undefined) options = { ...options, recordedAt };
  const staged = new Map<string, TtlvItem>();
  const top = [nameOf(expected.tag, options.names)];
  const difference = compareItem(expected, actual, options, staged, top, expected.tag, undefined);
  // Bindings count only when the whole message agreed: a failed message teaches nothing.
  if (difference === undefined) for (const [name, value] of staged) options.bindings.set(name, value);
  return difference;
}

function nameOf(tag: number, names: TextNames): string {
  return names.tagName(tag) ?? `0x${formatTag(tag)}`;
}

function show(item: TtlvItem, meaningTag: number, names: TextNames): string {
  if (item.type === ItemType.Structure) return `${nameOf(item.tag, names)} (Structure)`;
  try {
    return String(formatScalar(item, meaningTag, names, 'xml'));
  } catch {
    return String(item.value);
  }
}

function sameValue(a: TtlvItem, b: TtlvItem): boolean {
  if (a.type !== b.type) return false;
  if (a.type === ItemType.ByteString && b.type === ItemType.ByteString) {
    return Buffer.from(a.value).equals(Buffer.from(b.value));
  }
  return a.value === b.value;
}

function compareItem(
  expected: TtlvItem,
  actual: TtlvItem,
  options: CompareOptions,
  staged: Map<string, TtlvItem>,
  path: readonly string[],
  meaningTag: number,
  parentTag: number | undefined,
): Difference | undefined {
  const { names } = options;
  const at = (): string => path.join('/');
  if (expected.tag !== actual.tag) {
    return { path: at(), expected: nameOf(expected.tag, names), actual: nameOf(actual.tag, names) };
  }
  if (expected.type !== actual.type) {
    const typeName = (item: TtlvItem): string => `${itemTypeName(item.type) ?? String(item.type)} type`;
    return { path: at(), expected: typeName(expected), actual: typeName(actual) };
  }
  if (parentTag === responseHeaderTag && expected.tag === timeStampTag) return undefined;
  if (parentTag === batchItemTag && expected.tag === resultMessageTag) return undefined;
  if (
    options.aboutGenerated === true &&
    (expected.tag === digestValueTag || expected.tag === keyMaterialTag) &&
    expected.type === ItemType.ByteString &&
    actual.type === ItemType.ByteString &&
    expected.value.length === actual.value.length &&
    options.placeholders.placeholderOf(expected) === undefined
  ) {
    return undefined;
  }
  if (options.aboutGenerated === true && expected.tag === rngAttributeTag) return undefined;
  if (expected.type === ItemType.Structure && actual.type === ItemType.Structure) {
    return compareChildren(expected, actual, options, staged, path);
  }
  const placeholder = options.placeholders.placeholderOf(expected);
  if (placeholder !== undefined) {
    return comparePlaceholder(placeholder, actual, options, staged, at(), meaningTag);
  }
  if (
    options.recordedAt !== undefined &&
    expected.type === ItemType.DateTime &&
    actual.type === ItemType.DateTime &&
    !sameValue(expected, actual)
  ) {
    return compareRecordedTime(expected.value, actual, options, staged, at(), meaningTag);
  }
  if (!sameValue(expected, actual)) {
    return {
      path: at(),
      expected: show(expected, meaningTag, names),
      actual: show(actual, meaningTag, names),
    };
  }
  return undefined;
}

function compareChildren(
  expected: TtlvItem & { type: typeof ItemType.Structure },
  actual: TtlvItem & { type: typeof ItemType.Structure },
  options: CompareOptions,
  staged: Map<string, TtlvItem>,
  path: readonly string[],
): Difference | undefined {
  if (expected.tag === batchItemTag) markServerChosen(expected);
  if (expected.tag === responsePayloadTag && options.generated !== undefined) {
    const uid = actual.value.find((c) => c.tag === uniqueIdentifierTag);
    if (uid?.type === ItemType.TextString && options.generated.has(uid.value)) {
      options = { ...options, aboutGenerated: true };
    }
  }
  const { names } = options;
  const rngAttribute =
    options.aboutGenerated === true &&
    expected.tag === attributeTag &&
    expected.value.some(
      (c) =>
        c.tag === attributeNameTag && c.type === ItemType.TextString && c.value === 'Random Number Generator',
    );
  const query = serverChosenPayloads.get(expected) === 'query';
  if (query) {
    const listed = queryLists(expected, actual, options);
    if (listed) return { ...listed, path: [...path, listed.path].join('/') };
  }
  // The server's Server Correlation Value is its own business (KMIP 2.0 §7.2), present or not; so are a Query
  // answer's lists (queryLists).
  const keep = (child: TtlvItem): boolean =>
    !(expected.tag === responseHeaderTag && child.tag === serverCorrelationTag) &&
    !(query && serverDescription.has(child.tag));
  const want = expected.value.filter(keep);
  const got = actual.value.filter(keep);
  const meaning = new AttributeMeaning(names);
  const seen = new Map<number, number>();
  const repeated = (tag: number): boolean =>
    want.filter((c) => c.tag === tag).length > 1 || got.filter((c) => c.tag === tag).length > 1;
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    const w = want[i];
    const g = got[i];
    const tag = (w ?? g)?.tag ?? 0;
    const count = seen.get(tag) ?? 0;
    seen.set(tag, count + 1);
    const step = repeated(tag) ? `${nameOf(tag, names)}[${count}]` : nameOf(tag, names);
    const childPath = [...path, step];
    if (w === undefined) {
      return { path: childPath.join('/'), expected: 'nothing', actual: `an extra ${nameOf(tag, names)}` };
    }
    if (g === undefined) {
      return {
        path: childPath.join('/'),
        expected: show(w, meaning.meaningTag(w.tag), names),
        actual: 'nothing',
      };
    }
    const chosen = serverChosen(expected, w, g, options, staged);
    if (chosen === 'same-length') continue;
    if (rngAttribute && w.tag === attributeValueTag && g.tag === attributeValueTag) continue;
    const difference = compareItem(w, g, options, staged, childPath, meaning.meaningTag(w.tag), expected.tag);
    if (difference) return difference;
    meaning.observe(w);
  }
  return undefined;
}

/** The Query rule (see the file comment): a difference in the payload's Operation or Object Type lists, if any. */
function queryLists(
  expected: TtlvItem & { type: typeof ItemType.Structure },
  actual: TtlvItem & { type: typeof ItemType.Structure },
  options: CompareOptions,
): Difference | undefined {
  const values = (item: TtlvItem & { type: typeof ItemType.Structure }, tag: number): number[] =>
    item.value.flatMap((c) => (c.tag === tag && c.type === ItemType.Enumeration ? [c.value] : []));
  const named = (item: TtlvItem & { type: typeof ItemType.Structure }): boolean =>
    item.value.some((c) => c.tag === vendorTag && c.type === ItemType.TextString && c.value.length > 0);
  if (named(expected) && !named(actual)) {
    return { path: nameOf(vendorTag, options.names), expected: "the server's own name", actual: 'nothing' };
  }
  for (const tag of [operationTag, objectTypeTag]) {
    const want = values(expected, tag);
    const got = new Set(values(actual, tag));
    if (want.length > 0 && got.size === 0) {
      return { path: nameOf(tag, options.names), expected: "the server's own list", actual: 'nothing' };
    }
    if (tag !== operationTag) continue;
    for (const name of options.fileOperations ?? []) {
      const value = registryFor('2.1').enumValue(operationTag, name);
      if (value === undefined || !want.includes(value) || got.has(value)) continue;
      return {
        path: nameOf(tag, options.names),
        expected: `${name} among the operations (this file uses it)`,
        actual: 'not listed',
      };
    }
  }
  return undefined;
}

/** Response payloads whose values the server chooses at random (see the file comment), by kind. */
const serverChosenPayloads = new WeakMap<TtlvItem, 'random-data' | 'chosen-iv' | 'query'>();

function markServerChosen(batchItem: TtlvItem & { type: typeof ItemType.Structure }): void {
  const operation = batchItem.value.find((c) => c.tag === operationTag);
  if (operation?.type !== ItemType.Enumeration) return;
  for (const payload of batchItem.value) {
    if (payload.tag !== responsePayloadTag || payload.type !== ItemType.Structure) continue;
    if (operation.value === rngRetrieve) serverChosenPayloads.set(payload, 'random-data');
    if (operation.value === queryOperation) serverChosenPayloads.set(payload, 'query');
    if (operation.value === encryptOperation && payload.value.some((c) => c.tag === ivTag)) {
      serverChosenPayloads.set(payload, 'chosen-iv');
    }
  }
}

/**
 * 'same-length' when `w` (expected) and `g` (actual), children of `parent`, are server-chosen values of the same
 * type and length, binding what later requests use; undefined when the usual comparison applies.
 */
function serverChosen(
  parent: TtlvItem,
  w: TtlvItem,
  g: TtlvItem,
  options: CompareOptions,
  staged: Map<string, TtlvItem>,
): 'same-length' | undefined {
  const kind = serverChosenPayloads.get(parent);
  if (
    kind === undefined ||
    w.tag !== g.tag ||
    w.type !== ItemType.ByteString ||
    g.type !== ItemType.ByteString
  ) {
    return undefined;
  }
  if (options.placeholders.placeholderOf(w) !== undefined || w.value.length !== g.value.length)
    return undefined;
  if (w.tag === dataTag && kind === 'random-data') return 'same-length';
  if (kind !== 'chosen-iv') return undefined;
  if (w.tag === ivTag) {
    staged.set('$IV_COUNTER_NONCE', g);
    return 'same-length';
  }
  if (w.tag === dataTag) {
    const taken = [...options.bindings.keys(), ...staged.keys()].filter((n) => /^\$DATA_\d+$/.test(n)).length;
    staged.set(`$DATA_${String(taken)}`, g);
    return 'same-length';
  }
  return undefined;
}

function comparePlaceholder(
  placeholder: string,
  actual: TtlvItem,
  options: CompareOptions,
  staged: Map<string, TtlvItem>,
  path: string,
  meaningTag: number,
): Difference | undefined {
  const { names } = options;
  const now = nowPattern.exec(placeholder);
  if (now) {
    if (actual.type !== ItemType.DateTime && actual.type !== ItemType.DateTimeExtended) {
      return { path, expected: placeholder, actual: show(actual, meaningTag, names) };
    }
    const offset = BigInt(now[2] ?? '0') * (now[1] === '-' ? -1n : 1n);
    const seconds = actual.type === ItemType.DateTime ? actual.value : actual.value / 1_000_000n;
    const distance = seconds - (options.sentAt + offset);
    if (distance < -BigInt(options.windowSeconds) || distance > BigInt(options.windowSeconds)) {
      const when = new Date(Number(options.sentAt + offset) * 1000).toISOString();
      return {
        path,
        expected: `${placeholder} (${when} ±${options.windowSeconds}s)`,
        actual: show(actual, meaningTag, names),
      };
    }
    return undefined;
  }
  const bound = staged.get(placeholder) ?? options.bindings.get(placeholder);
  if (bound !== undefined) {
    if (sameValue(bound, actual)) return undefined;
    return {
      path,
      expected: `${placeholder} = ${show(bound, meaningTag, names)}`,
      actual: show(actual, meaningTag, names),
    };
  }
  // A numbered placeholder ($UNIQUE_IDENTIFIER_1) names a new value, not one of its siblings ($UNIQUE_IDENTIFIER_0).
  const family = /^(.*_)\d+$/.exec(placeholder)?.[1];
  if (family !== undefined) {
    for (const [name, value] of [...options.bindings, ...staged]) {
      if (name !== placeholder && name.startsWith(family) && /^\d+$/.test(name.slice(family.length))) {
        if (sameValue(value, actual)) {
          return {
            path,
            expected: `${placeholder} (a new value)`,
            actual: `${show(actual, meaningTag, names)}, the value of ${name}`,
          };
        }
      }
    }
  }
  staged.set(placeholder, actual);
  return undefined;
}
