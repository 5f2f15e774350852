/**
 * The load generator: closed-loop clients over mutual TLS, each sending PRE-ENCODED request bytes and waiting for
 * the answer before sending again. It is kept cheap because it shares the machine's cores with the server: no XML,
 * no TTLV decoding in the hot loop, only a minimal framer (8-byte header, then the length) and a walk over item
 * headers for the Result Status of every batch item. The first answer on each connection is also fully decoded
 * (decodeTtlv) as a cross-check that the header walk reads what the decoder reads.
 *
 * It runs unchanged on the server's thread (inline) or in a worker thread: everything in a CellSpec is cloneable.
 */
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { ItemType, type TtlvItem } from '../../src/ttlv/types.js';
import { messageToXml } from '../../src/kmip/text-messages.js';
import { enumValue, tags } from '../../src/kmip/vocabulary.js';

export interface TlsFiles {
  /** PEM text, not paths: a worker should not touch the file system in the middle of a measurement. */
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

export interface GroupSpec {
  readonly label: string;
  /** One whole TTLV message, encoded once before the measurement. */
  readonly request: Uint8Array;
  readonly connections: number;
  /** A new mutual-TLS connection for every request (connect, one request, close), as Barbican's plugin does. */
  readonly connectPerRequest: boolean;
  /** 'kmip': every batch item must answer Success. 'echo': the answer must be the request, byte for byte in size. */
  readonly check: 'kmip' | 'echo';
}

/** Groups of one cell run at the same time over the same measured window (e.g. Get beside RSA generation). */
export interface CellSpec {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsFiles;
  readonly groups: readonly GroupSpec[];
  readonly warmupMs: number;
  readonly measureMs: number;
}

export interface GroupResult {
  readonly label: string;
  /** Answers received inside the measured window. */
  readonly ops: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Failed answers or connection errors, warm-up and drain included: any failure spoils the cell. */
  readonly failures: number;
  readonly failureSamples: readonly string[];
  /** Answers decoded in full to confirm the header walk. */
  readonly crossChecked: number;
}

export interface CellResult {
  readonly groups: readonly GroupResult[];
  readonly seconds: number;
  /** Event-loop utilisation of the thread that ran the clients, over the measured window. */
  readonly clientElu: number;
}

/** Called on the client's thread when the measured window opens and closes (the server side samples its meters). */
export interface CellHooks {
  readonly onMeasureStart?: () => void;
  readonly onMeasureEnd?: () => void;
}

const T = tags('ResponseMessage', 'BatchItem', 'ResultStatus', 'ResultReason', 'ResultMessage');
const Success = enumValue('ResultStatus', 'Success');
/** What the header walk returns when the answer is not a Response Message with batch items. */
const Malformed = -1;

/**
 * The Result Status of a response: Success when every batch item says Success, else the first other status, or
 * Malformed. Reads only item headers (tag, type, length) and the one 4-byte value of each Result Status; every item
 * starts on an 8-byte boundary (KMIP 1.4 §9.1.1.3 pads every value to 8 bytes), so the walk skips by padded length.
 */
export function scanResultStatus(m: Buffer): number {
  if (m.length < 8 || m.readUIntBE(0, 3) !== T.ResponseMessage || m[3] !== ItemType.Structure)
    return Malformed;
  const end = 8 + m.readUInt32BE(4);
  if (end > m.length) return Malformed;
  let items = 0;
  for (let p = 8; p + 8 <= end; p += 8 + ((m.readUInt32BE(p + 4) + 7) & ~7)) {
    if (m.readUIntBE(p, 3) !== T.BatchItem) continue;
    const itemEnd = p + 8 + m.readUInt32BE(p + 4);
    let status = Malformed;
    for (let q = p + 8; q + 8 <= itemEnd; q += 8 + ((m.readUInt32BE(q + 4) + 7) & ~7)) {
      if (m.readUIntBE(q, 3) === T.ResultStatus && q + 12 <= itemEnd) {
        status = m.readUInt32BE(q + 8);
        break;
      }
    }
    if (status !== Success) return status;
    items += 1;
  }
  return items > 0 ? Success : Malformed;
}

/** The same answer through the real decoder: every Result Status in the tree. */
function decodedStatus(m: Buffer): number {
  const root = decodeTtlv(m);
  if (root.type !== ItemType.Structure) return Malformed;
  const batchItems = root.value.filter((c): c is TtlvItem & { type: typeof ItemType.Structure } => {
    return c.tag === T.BatchItem && c.type === ItemType.Structure;
  });
  if (batchItems.length === 0) return Malformed;
  for (const batchItem of batchItems) {
    const status = batchItem.value.find((c) => c.tag === T.ResultStatus);
    if (status?.type !== ItemType.Enumeration) return Malformed;
    if (status.value !== Success) return status.value;
  }
  return Success;
}

/** A failed answer in words, for the report (decoded only when it fails, so the cost does not matter). */
function describeFailure(m: Buffer): string {
  try {
    const xml = messageToXml(decodeTtlv(m));
    const pick = (name: string): string | undefined =>
      new RegExp(`<${name} type="[A-Za-z]+" value="([^"]*)"/>`).exec(xml)?.[1];
    const status = pick('ResultStatus') ?? '?';
    return `${status} ${pick('ResultReason') ?? ''}: ${pick('ResultMessage') ?? ''}`.trim();
  } catch (error) {
    return `undecodable answer (${String(error)}): ${m.subarray(0, 64).toString('hex')}`;
  }
}

/** Latencies and failures of one group. */
class Recorder {
  private latencies = new Float64Array(4096);
  count = 0;
  failures = 0;
  crossChecked = 0;
  readonly samples: string[] = [];

  record(ms: number): void {
    if (this.count === this.latencies.length) {
      const bigger = new Float64Array(this.latencies.length * 2);
      bigger.set(this.latencies);
      this.latencies = bigger;
    }
    this.latencies[this.count] = ms;
    this.count += 1;
  }

  fail(description: string): void {
    this.failures += 1;
    if (this.samples.length < 3) this.samples.push(description);
  }

  /** Nearest-rank percentile over the recorded latencies. */
  percentiles(): { p50: number; p99: number } {
    const sorted = this.latencies.subarray(0, this.count).sort();
    const at = (q: number): number => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
    return { p50: at(0.5), p99: at(0.99) };
  }
}

const Phase = { Warmup: 0, Measure: 1, Stop: 2 } as const;
type Phase = (typeof Phase)[keyof typeof Phase];

interface Clock {
  phase: Phase;
}

/** Appends a chunk and hands out whole messages; the common case (one chunk = one message) copies nothing. */
class Framer {
  private held: Buffer | undefined;

  push(chunk: Buffer, onMessage: (message: Buffer) => void): void {
    let data = this.held === undefined ? chunk : Buffer.concat([this.held, chunk]);
    this.held = undefined;
    while (data.length >= 8) {
      const size = 8 + data.readUInt32BE(4);
      if (data.length < size) break;
      onMessage(size === data.length ? data : data.subarray(0, size));
      data = data.subarray(size);
    }
    if (data.length > 0) this.held = data;
  }
}

/** Checks one answer; returns whether it counts as a success. */
function checkAnswer(group: GroupSpec, recorder: Recorder, message: Buffer, crossCheck: boolean): boolean {
  if (group.check === 'echo') {
    if (message.length === group.request.length) return true;
    recorder.fail(`echo of ${message.length} bytes for ${group.request.length} sent`);
    return false;
  }
  const status = scanResultStatus(message);
  if (crossCheck) {
    recorder.crossChecked += 1;
    let decoded: number;
    try {
      decoded = decodedStatus(message);
    } catch {
      decoded = Malformed;
    }
    if (decoded !== status) {
      recorder.fail(`header walk read status ${status}, the decoder ${decoded}: ${describeFailure(message)}`);
      return false;
    }
  }
  if (status === Success) return true;
  recorder.fail(describeFailure(message));
  return false;
}

function connect(spec: CellSpec, context: tls.SecureContext): tls.TLSSocket {
  const socket = tls.connect({
    host: spec.host,
    port: spec.port,
    secureContext: context,
    servername: 'localhost',
  });
  socket.setNoDelay(true);
  return socket;
}

/** One persistent connection in a closed loop; resolves after its last answer once the clock says stop. */
function persistentLoop(
  spec: CellSpec,
  context: tls.SecureContext,
  group: GroupSpec,
  request: Buffer,
  recorder: Recorder,
  clock: Clock,
  ready: Promise<void>,
): { connected: Promise<void>; done: Promise<void> } {
  const socket = connect(spec, context);
  const framer = new Framer();
  let sentAt = 0;
  let first = true;
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    finish = () => {
      socket.destroy();
      resolve();
    };
  });
  const send = (): void => {
    sentAt = performance.now();
    socket.write(request);
  };
  socket.on('data', (chunk: Buffer) => {
    framer.push(chunk, (message) => {
      const elapsed = performance.now() - sentAt;
      const ok = checkAnswer(group, recorder, message, first);
      first = false;
      if (ok && clock.phase === Phase.Measure) recorder.record(elapsed);
      if (clock.phase === Phase.Stop) finish();
      else send();
    });
  });
  const connected = new Promise<void>((resolve, reject) => {
    socket.once('secureConnect', () => {
      resolve();
    });
    socket.once('error', reject);
  });
  socket.on('error', (error: Error) => {
    recorder.fail(`connection error: ${error.message}`);
    finish();
  });
  socket.on('close', () => {
    if (clock.phase !== Phase.Stop) recorder.fail('the server closed a connection');
    finish();
  });
  // Every connection of the cell starts sending at the same moment, after all handshakes.
  void ready.then(send, () => undefined);
  return { connected, done };
}

/** One request on a fresh connection: connect (full mutual-TLS handshake), send, read the answer, close. */
function oneShot(spec: CellSpec, context: tls.SecureContext, request: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect(spec, context);
    const framer = new Framer();
    socket.once('secureConnect', () => {
      socket.write(request);
    });
    socket.on('data', (chunk: Buffer) => {
      framer.push(chunk, (message) => {
        // Copied: the chunk may be reused once the socket is gone.
        resolve(Buffer.from(message));
        socket.end();
      });
    });
    socket.once('error', reject);
    socket.once('close', () => {
      reject(new Error('connection closed before an answer'));
    });
  });
}

/** A connection-per-request client in a closed loop. */
async function connectLoop(
  spec: CellSpec,
  context: tls.SecureContext,
  group: GroupSpec,
  request: Buffer,
  recorder: Recorder,
  clock: Clock,
): Promise<void> {
  let checked = 0;
  while (clock.phase !== Phase.Stop) {
    const start = performance.now();
    try {
      const message = await oneShot(spec, context, request);
      const elapsed = performance.now() - start;
      const ok = checkAnswer(group, recorder, message, checked < 3);
      checked += 1;
      if (ok && clock.phase === Phase.Measure) recorder.record(elapsed);
    } catch (error) {
      recorder.fail(`connection: ${error instanceof Error ? error.message : String(error)}`);
      // A refused connection fails at once: do not spin.
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Runs one cell: connects, warms up, measures for measureMs, lets every in-flight request finish, closes. */
export async function runCell(spec: CellSpec, hooks: CellHooks = {}): Promise<CellResult> {
  // One secure context for every connection (parsing the PEM and key per connection would cost the client more
  // than the handshake itself). No TLS session is offered again, so each new connection is a full handshake.
  const context = tls.createSecureContext({ ca: spec.tls.ca, cert: spec.tls.cert, key: spec.tls.key });
  const clock: Clock = { phase: Phase.Warmup };
  const recorders = spec.groups.map(() => new Recorder());
  let release: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    release = resolve;
  });
  const connected: Promise<void>[] = [];
  const done: Promise<void>[] = [];
  spec.groups.forEach((group, g) => {
    const recorder = recorders[g] ?? new Recorder();
    // A Buffer over the cloned bytes, made once: socket.write takes it as is.
    const request = Buffer.from(group.request.buffer, group.request.byteOffset, group.request.byteLength);
    for (let i = 0; i < group.connections; i++) {
      if (group.connectPerRequest) {
        done.push(ready.then(() => connectLoop(spec, context, group, request, recorder, clock)));
      } else {
        const loop = persistentLoop(spec, context, group, request, recorder, clock, ready);
        connected.push(loop.connected);
        done.push(loop.done);
      }
    }
  });
  await Promise.all(connected);
  release();
  await new Promise((resolve) => setTimeout(resolve, spec.warmupMs));
  clock.phase = Phase.Measure;
  hooks.onMeasureStart?.();
  const elu = performance.eventLoopUtilization();
  const start = performance.now();
  await new Promise((resolve) => setTimeout(resolve, spec.measureMs));
  clock.phase = Phase.Stop;
  const seconds = (performance.now() - start) / 1000;
  const clientElu = performance.eventLoopUtilization(elu).utilization;
  hooks.onMeasureEnd?.();
  await Promise.all(done);
  const groups = spec.groups.map((group, g): GroupResult => {
    const recorder = recorders[g] ?? new Recorder();
    const { p50, p99 } = recorder.percentiles();
    return {
      label: group.label,
      ops: recorder.count,
      opsPerSecond: recorder.count / seconds,
      p50Ms: p50,
      p99Ms: p99,
      failures: recorder.failures,
      failureSamples: recorder.samples,
      crossChecked: recorder.crossChecked,
    };
  });
  return { groups, seconds, clientElu };
}
