/**
 * Multi-part cryptographic operations (KMIP 1.4 §2.1.15 Correlation Value, §2.1.16 Init Indicator, §2.1.17 Final
 * Indicator; the Encrypt ... Hash tables of §4.29-§4.37): the first part (Init Indicator) starts the operation in
 * the token and answers a Correlation Value chosen by the server; later parts name it; the part with the Final
 * Indicator answers the result and ends the operation. A message with both indicators, or neither and no
 * Correlation Value, is single-part.
 *
 * The Correlation Value is 16 random bytes, bound to the principal that started the operation and to the
 * operation: another client, or another operation, naming it is told it is unknown. The token keeps the state
 * (src/hsm/token-crypto.ts streams); an operation left without its last part is abandoned after STREAM_IDLE_MS.
 */
import { randomBytes } from 'node:crypto';
import type { Fields } from '../../kmip/fields.js';
import type { KeyRef, StreamOperation, StreamResult } from '../../hsm/hsm.js';
import type { RequestContext } from '../context.js';
import { errors } from '../errors.js';

export interface StreamPart {
  readonly init: boolean;
  readonly final: boolean;
  readonly correlation: Uint8Array | undefined;
}

/** The part a request is, or undefined for a single-part request. */
export function readStreamPart(payload: Fields | undefined, operation: string): StreamPart | undefined {
  const init = payload?.boolean('InitIndicator') ?? false;
  const final = payload?.boolean('FinalIndicator') ?? false;
  const correlation = payload?.bytes('CorrelationValue');
  if (correlation === undefined && init === final) return undefined;
  if (init && correlation !== undefined) {
    throw errors.invalidField(`${operation}: a first part (Init Indicator) cannot name a Correlation Value`);
  }
  if (!init && correlation === undefined) {
    throw errors.invalidField(
      `${operation}: a part after the first needs the Correlation Value the first answered`,
    );
  }
  return { init, final, correlation };
}

interface OpenStream {
  readonly hsmId: string;
  readonly operation: string;
  readonly principal: string;
  readonly uid: string | undefined;
  /** A signature or MAC to check that came with an earlier part (TC-STREAM-SIGNVFY gives it with the first). */
  readonly expected: Uint8Array | undefined;
  /** Charges a later part's bytes to the key's Usage Limits (protecting operations). */
  readonly charge: ((uid: string, ctx: RequestContext, bytes: number) => Promise<void>) | undefined;
  lastUsed: number;
}

/** How long a started operation may wait for its next part (as the token's own limit). */
const STREAM_IDLE_MS = 5 * 60 * 1000;

/** The server's open multi-part operations, by Correlation Value. */
export class StreamTable {
  private readonly open = new Map<string, OpenStream>();

  add(stream: Omit<OpenStream, 'lastUsed'>): Uint8Array {
    this.sweep();
    const correlation = randomBytes(16);
    this.open.set(correlation.toString('hex'), { ...stream, lastUsed: Date.now() });
    return correlation;
  }

  /** The operation a Correlation Value names, for this principal and operation only. */
  get(correlation: Uint8Array, principal: string, operation: string): OpenStream {
    const stream = this.open.get(Buffer.from(correlation).toString('hex'));
    if (stream?.principal !== principal || stream.operation !== operation) {
      throw errors.invalidCorrelationValue(
        `${operation}: no open multi-part operation has this Correlation Value`,
      );
    }
    stream.lastUsed = Date.now();
    return stream;
  }

  delete(correlation: Uint8Array): void {
    this.open.delete(Buffer.from(correlation).toString('hex'));
  }

  /** Forgets entries idle past the token's limit (the token abandons their operations itself). */
  private sweep(): void {
    const cutoff = Date.now() - STREAM_IDLE_MS;
    for (const [key, stream] of this.open) if (stream.lastUsed < cutoff) this.open.delete(key);
  }
}

/** What the first part starts. */
export interface StreamStart {
  readonly uid: string | undefined;
  readonly key: KeyRef | undefined;
  readonly operation: StreamOperation;
  readonly expected?: Uint8Array;
  /** For protecting operations: how a later part's bytes are charged to the key's Usage Limits. */
  readonly charge?: (uid: string, ctx: RequestContext, bytes: number) => Promise<void>;
}

export interface StreamStep {
  readonly uid: string | undefined;
  /** The cipher output of this part (empty for the other operations until the last part). */
  readonly output: Uint8Array;
  /** The last part's result. */
  readonly result?: StreamResult;
  /** The Correlation Value to answer while the operation goes on. */
  readonly correlation?: Uint8Array;
}

/**
 * Runs one part: `start` (called for the first part only) loads and checks the key and says what to run; `data` is
 * the part's data; `last` carries a GCM tag or a signature to check given with this part.
 */
export async function streamStep(
  part: StreamPart,
  operation: string,
  ctx: RequestContext,
  start: () => Promise<StreamStart>,
  data: Uint8Array,
  last: { readonly tag?: Uint8Array; readonly expected?: Uint8Array },
): Promise<StreamStep> {
  // A part changes the operation's state in the token, which no later failure of the batch could take back.
  if (ctx.undo === true) {
    throw errors.featureNotSupported(
      `a part of a multi-part ${operation} cannot be undone: it is refused in a batch with Batch Error Continuation Option Undo`,
    );
  }
  const hsm = ctx.keys.hsm;
  const table = ctx.keys.streams;
  let correlation = part.correlation;
  let stream: OpenStream;
  if (correlation === undefined) {
    const begun = await start();
    const hsmId = await hsm.beginStream(begun.key, begun.operation);
    stream = {
      hsmId,
      operation,
      principal: ctx.principal.name,
      uid: begun.uid,
      expected: begun.expected,
      charge: begun.charge,
      lastUsed: Date.now(),
    };
    correlation = table.add(stream);
  } else {
    stream = table.get(correlation, ctx.principal.name, operation);
    if (stream.charge !== undefined && stream.uid !== undefined) {
      try {
        await stream.charge(stream.uid, ctx, data.length);
      } catch (error) {
        table.delete(correlation);
        hsm.abortStream(stream.hsmId);
        throw error;
      }
    }
  }
  try {
    if (part.final) {
      table.delete(correlation);
      const expected = last.expected ?? stream.expected;
      const result = await hsm.finishStream(stream.hsmId, data, {
        ...(last.tag ? { tag: last.tag } : {}),
        ...(expected ? { signature: expected } : {}),
      });
      return { uid: stream.uid, output: result.data, result };
    }
    const output = await hsm.updateStream(stream.hsmId, data);
    return { uid: stream.uid, output, correlation };
  } catch (error) {
    // A failed part ends the operation: its state in the token is no longer what the client thinks.
    table.delete(correlation);
    hsm.abortStream(stream.hsmId);
    throw error;
  }
}
