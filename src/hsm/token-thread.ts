/**
 * A worker thread that makes the short token calls of seal, unseal and secret key generation, so that the event
 * loop pays one postMessage each way (about 7-15 µs) instead of the pkcs11js calls themselves.
 *
 * Why: a profile of Get showed about 39% of the event loop in native PKCS#11 calls. pkcs11js has no asynchronous
 * C_EncryptInit, C_DecryptInit, C_GetAttributeValue, C_CreateObject or C_DestroyObject, and even its *Async calls
 * spend 20-25 µs on the calling thread (argument parsing, async-work set-up). Here all of them run synchronously
 * on this thread, which does nothing else; the crypto of one call is microseconds (SoftHSM2 2.6.1, one thread:
 * AES-GCM of 32 bytes 73k/s, unwrap 7-10k/s, wrap 15-19k/s, AES key generation 12k/s), so one thread serves more
 * than a 2-core machine can ask of it. Key pair generation (seconds for RSA) stays on the libuv pool.
 *
 * The thread loads the same PKCS#11 library (dlopen gives the already loaded copy; C_Initialize answers
 * CKR_CRYPTOKI_ALREADY_INITIALIZED, PKCS#11 v2.40 §5.4) and opens its own session, which is logged in already
 * because login belongs to the application, not the session (v2.40 §5.6). Session objects, the cached KEKs among
 * them, belong to the application too, so handles made on the main thread's sessions work here.
 *
 * The worker's code is plain JavaScript evaluated from a string: it then runs the same way under tsx (tests, bench)
 * and from the compiled dist/, without a TypeScript loader in the worker. Its protocol is typed on this side.
 *
 * Plaintext: client bytes to seal are copied into a fresh ArrayBuffer that is transferred (moved, not cloned), and
 * the worker zeroes it after C_Encrypt; unsealed bytes come back the same way; the worker zeroes its other buffers.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { GCM_TAG_BYTES } from './envelope.js';
import { HsmError } from './hsm.js';
import { ck, toHsmError, type ErrorCodes, type Handle, type Template } from './pkcs11-module.js';

/**
 * A mechanism as pkcs11js takes it, restricted to what crosses the thread boundary (structured clone): no
 * parameter, a bare parameter (an IV), or a pkcs11js parameter object (CK_PARAMS_*) of numbers and byte arrays.
 */
export interface ThreadMechanism {
  readonly mechanism: number;
  readonly parameter?:
    Uint8Array | { readonly type: number; readonly [field: string]: number | Uint8Array | undefined };
}

/**
 * CKM_AES_GCM parameters in the CK_GCM_PARAMS layout of PKCS#11 v2.40 errata 01 and v3.0 (pIv, ulIvLen, ulIvBits,
 * pAAD, ulAADLen, ulTagBits; v3.0 curr. mech. §2.12.3), which SoftHSM2 2.6.1 reads; pkcs11js's older
 * CK_PARAMS_AES_GCM form leaves ulIvBits unset.
 */
export function gcmMechanism(iv: Uint8Array, aad: Uint8Array, tagBytes = GCM_TAG_BYTES): ThreadMechanism {
  return {
    mechanism: ck.CKM_AES_GCM,
    parameter: {
      type: ck.CK_PARAMS_AES_GCM_v240,
      iv,
      ivBits: iv.length * 8,
      aad,
      tagBits: tagBytes * 8,
    },
  };
}

type Request =
  | {
      readonly op: 'encrypt' | 'decrypt';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly input: Uint8Array;
      readonly outputLength: number;
    }
  | {
      /** C_UnwrapKey into a readable temporary object, C_GetAttributeValue CKA_VALUE, C_DestroyObject. */
      readonly op: 'unwrap-read';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly wrapped: Uint8Array;
      readonly template: Template;
    }
  | {
      /** C_GenerateKey, C_WrapKey, C_DigestKey (SHA-256, appended to the answer), C_DestroyObject. */
      readonly op: 'generate-wrap';
      readonly key: Uint8Array;
      readonly generate: ThreadMechanism;
      readonly template: Template;
      readonly wrap: ThreadMechanism;
      readonly outputLength: number;
    }
  | {
      /**
       * C_GenerateKeyPair; answers u8 length | public key handle | private key handle. The objects belong to the
       * application (any session may use them) and are destroyed by the caller.
       */
      readonly op: 'generate-pair';
      readonly mechanism: ThreadMechanism;
      readonly publicTemplate: Template;
      readonly privateTemplate: Template;
    }
  | {
      /** C_UnwrapKey into a session object that stays (a key for cryptographic calls); answers its handle. */
      readonly op: 'unwrap-key';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly wrapped: Uint8Array;
      readonly template: Template;
    }
  | {
      /**
       * C_CreateObject of a key for cryptographic calls; answers its handle. `values` are views into one
       * transferred buffer that the thread zeroes once the token has them.
       */
      readonly op: 'create-key';
      readonly template: Template;
      readonly values: readonly { readonly type: number; readonly value: Uint8Array }[];
    }
  | {
      /**
       * C_Sign, or C_Verify (answers one byte, 1 valid, 0 invalid), optionally after C_Digest with `digest` (for
       * mechanisms the token offers only over a digest, such as CKM_ECDSA).
       */
      readonly op: 'sign' | 'verify';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly digest?: ThreadMechanism;
      readonly input: Uint8Array;
      readonly signature?: Uint8Array;
      readonly outputLength: number;
    }
  | {
      /**
       * A multi-part operation (KMIP streaming) in a session of its own, which holds the operation's state between
       * calls (PKCS#11 v2.40 §5.2: one active operation of each kind per session): begin opens the session and
       * calls C_*Init, answering the session handle; update calls C_*Update (cipher output, if any); finish calls
       * C_*Update with the last data and C_*Final (for verify: one byte, 1 valid, 0 invalid), and closes the
       * session, as abort does.
       */
      readonly op: 'stream-begin';
      readonly kind: StreamKind;
      readonly key?: Uint8Array;
      readonly mechanism: ThreadMechanism;
    }
  | {
      readonly op: 'stream-update';
      readonly kind: StreamKind;
      readonly session: Uint8Array;
      readonly input: Uint8Array;
      readonly outputLength: number;
    }
  | {
      readonly op: 'stream-finish';
      readonly kind: StreamKind;
      readonly session: Uint8Array;
      readonly input: Uint8Array;
      readonly signature?: Uint8Array;
      readonly outputLength: number;
    }
  | { readonly op: 'stream-abort'; readonly session: Uint8Array }
  | {
      /** C_DeriveKey into a readable temporary object, C_GetAttributeValue CKA_VALUE, C_DestroyObject. */
      readonly op: 'derive-read';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly template: Template;
    }
  | {
      /**
       * PBKDF2 (RFC 8018 §5.2) with the held HMAC key as the password: every PRF call a C_SignInit and C_Sign here,
       * the blocks XORed here; answers `length` bytes.
       */
      readonly op: 'pbkdf2';
      readonly key: Uint8Array;
      readonly mechanism: ThreadMechanism;
      readonly salt: Uint8Array;
      readonly iterations: number;
      readonly length: number;
    }
  | {
      /** C_Digest. */
      readonly op: 'digest';
      readonly mechanism: ThreadMechanism;
      readonly input: Uint8Array;
      readonly outputLength: number;
    }
  | {
      /** C_CreateObject (the value is zeroed afterwards), C_WrapKey, C_DestroyObject. */
      readonly op: 'create-wrap';
      readonly key: Uint8Array;
      readonly template: Template;
      readonly value: Uint8Array;
      readonly wrap: ThreadMechanism;
      readonly outputLength: number;
    };

/** The PKCS#11 function family of a multi-part operation. */
export type StreamKind = 'encrypt' | 'decrypt' | 'sign' | 'verify' | 'digest';

type Reply =
  | { readonly id: number; readonly ok: true; readonly bytes: Uint8Array }
  | { readonly id: number; readonly ok: false; readonly message: string };

interface Pending {
  readonly operation: string;
  readonly codes: ErrorCodes | undefined;
  readonly resolve: (bytes: Buffer) => void;
  readonly reject: (error: HsmError) => void;
}

const WORKER_SOURCE = String.raw`
'use strict';
const { parentPort, workerData } = require('node:worker_threads');
const pkcs11js = require(workerData.pkcs11js);
const p = new pkcs11js.PKCS11();
p.load(workerData.modulePath);
try { p.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK }); } catch (e) {
  if (e.message !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw e;
}
if (workerData.nice !== undefined) {
  // On Linux setpriority(PRIO_PROCESS, 0) applies to the calling thread only (setpriority(2), BUGS): this thread
  // yields the cores to the event loop and the token thread, the rest of the process keeps its priority.
  try { require('node:os').setPriority(workerData.nice); } catch { /* best effort */ }
}
if (workerData.schedIdle) {
  // SCHED_IDLE (sched(7)): the thread runs on time no other thread wants, and a waking thread of the event loop
  // takes the core from it at once; under full load it keeps SCHED_IDLE's small weight, so it slows, never stops.
  // Node has no call for it: chrt(1) of util-linux sets it on this thread's id, which needs no privilege when a
  // thread lowers its own policy. Without chrt the niceness above stays.
  try {
    const tid = require('node:fs').readlinkSync('/proc/thread-self').split('/').pop();
    // From the system's directories only, and with none of this process's environment (which may hold the PIN).
    require('node:child_process').execFileSync('chrt', ['--idle', '-p', '0', tid], {
      stdio: 'ignore', timeout: 5000, env: { PATH: '/usr/bin:/bin:/usr/sbin:/sbin' },
    });
  } catch { /* best effort */ }
}
const session = p.C_OpenSession(Buffer.from(workerData.slot), pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
const buf = (u8) => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
// pkcs11js passes a zero-length Buffer as NULL, which SoftHSM2 refuses (see pkcs11-hsm.ts EMPTY).
const nonNull = (b) => (b.length === 0 ? Buffer.alloc(1).subarray(0, 0) : b);
const mech = (m) => {
  if (m.parameter === undefined) return { mechanism: m.mechanism };
  if (m.parameter instanceof Uint8Array) return { mechanism: m.mechanism, parameter: buf(m.parameter) };
  const parameter = {};
  for (const [k, v] of Object.entries(m.parameter)) parameter[k] = v instanceof Uint8Array ? nonNull(buf(v)) : v;
  return { mechanism: m.mechanism, parameter };
};
const INVALID_SIGNATURE = new Set(['CKR_SIGNATURE_INVALID', 'CKR_SIGNATURE_LEN_RANGE']);
function signOrVerify(r) {
  const key = buf(r.key);
  const data = r.digest === undefined ? nonNull(buf(r.input)) : (() => {
    p.C_DigestInit(session, mech(r.digest));
    return p.C_Digest(session, nonNull(buf(r.input)), Buffer.alloc(64));
  })();
  if (r.op === 'sign') {
    p.C_SignInit(session, mech(r.mechanism), key);
    return p.C_Sign(session, data, Buffer.alloc(r.outputLength));
  }
  p.C_VerifyInit(session, mech(r.mechanism), key);
  try {
    return Buffer.of(p.C_Verify(session, data, nonNull(buf(r.signature))) ? 1 : 0);
  } catch (e) {
    if (INVALID_SIGNATURE.has(e.message)) return Buffer.of(0);
    throw e;
  }
}
const tmpl = (t) => t.map((a) => (a.value instanceof Uint8Array ? { type: a.type, value: buf(a.value) } : a));
const destroy = (o) => { try { p.C_DestroyObject(session, o); } catch { /* gone with the session anyway */ } };
/** The CKA_VALUE of a temporary readable object, which is destroyed whatever happens. */
function readAndDestroy(object) {
  try {
    const value = p.C_GetAttributeValue(session, object, [{ type: pkcs11js.CKA_VALUE }])[0];
    if (value === undefined || value.value === undefined) throw new Error('C_GetAttributeValue gave no CKA_VALUE');
    return value.value;
  } finally { destroy(object); }
}
function cipher(r) {
  const encrypt = r.op === 'encrypt';
  const key = buf(r.key);
  if (encrypt) p.C_EncryptInit(session, mech(r.mechanism), key); else p.C_DecryptInit(session, mech(r.mechanism), key);
  const input = nonNull(buf(r.input));
  const run = (data, room) => encrypt ? p.C_Encrypt(session, data, Buffer.alloc(room)) : p.C_Decrypt(session, data, Buffer.alloc(room));
  try {
    return run(input, Math.max(r.outputLength, 1));
  } catch (e) {
    // CKR_BUFFER_TOO_SMALL (and CKR_ARGUMENTS_BAD in SoftHSM2 2.6.1) leave the operation active: finish it.
    if (e.message === 'CKR_BUFFER_TOO_SMALL' || e.message === 'CKR_ARGUMENTS_BAD') {
      try { run(Buffer.alloc(16), input.length + 32); } catch { /* only the clean-up */ }
    }
    throw e;
  } finally {
    if (encrypt) input.fill(0);
  }
}
function streamUpdate(kind, own, input, room) {
  switch (kind) {
    case 'encrypt': return input.length === 0 ? Buffer.alloc(0) : p.C_EncryptUpdate(own, input, Buffer.alloc(room));
    case 'decrypt': return input.length === 0 ? Buffer.alloc(0) : p.C_DecryptUpdate(own, input, Buffer.alloc(room));
    case 'sign': p.C_SignUpdate(own, input); return Buffer.alloc(0);
    case 'verify': p.C_VerifyUpdate(own, input); return Buffer.alloc(0);
    case 'digest': p.C_DigestUpdate(own, input); return Buffer.alloc(0);
    default: throw new Error('unknown stream kind');
  }
}
function handle(r) {
  switch (r.op) {
    case 'encrypt':
    case 'decrypt':
      return cipher(r);
    case 'unwrap-read':
      return readAndDestroy(p.C_UnwrapKey(session, mech(r.mechanism), buf(r.key), buf(r.wrapped), tmpl(r.template)));
    case 'generate-wrap': {
      const object = p.C_GenerateKey(session, mech(r.generate), tmpl(r.template));
      try {
        const wrapped = p.C_WrapKey(session, mech(r.wrap), buf(r.key), object, Buffer.alloc(r.outputLength));
        // The key's SHA-256, for its Digest attribute, taken inside the token (C_DigestKey, PKCS#11 v2.40 §5.10).
        p.C_DigestInit(session, { mechanism: pkcs11js.CKM_SHA256 });
        p.C_DigestKey(session, object);
        const digest = p.C_DigestFinal(session, Buffer.alloc(32));
        return Buffer.concat([wrapped, digest]);
      } finally { destroy(object); }
    }
    case 'generate-pair': {
      const pair = p.C_GenerateKeyPair(session, mech(r.mechanism), tmpl(r.publicTemplate), tmpl(r.privateTemplate));
      return Buffer.concat([Buffer.of(pair.publicKey.length), pair.publicKey, pair.privateKey]);
    }
    case 'unwrap-key': {
      const object = p.C_UnwrapKey(session, mech(r.mechanism), buf(r.key), buf(r.wrapped), tmpl(r.template));
      return Buffer.from(object);
    }
    case 'create-key': {
      try {
        return Buffer.from(p.C_CreateObject(session, [...tmpl(r.template), ...tmpl(r.values)]));
      } finally {
        for (const v of r.values) new Uint8Array(v.value.buffer).fill(0);
      }
    }
    case 'sign':
    case 'verify':
      return signOrVerify(r);
    case 'stream-begin': {
      const own = p.C_OpenSession(Buffer.from(workerData.slot), pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        const m = mech(r.mechanism);
        switch (r.kind) {
          case 'encrypt': p.C_EncryptInit(own, m, buf(r.key)); break;
          case 'decrypt': p.C_DecryptInit(own, m, buf(r.key)); break;
          case 'sign': p.C_SignInit(own, m, buf(r.key)); break;
          case 'verify': p.C_VerifyInit(own, m, buf(r.key)); break;
          case 'digest': p.C_DigestInit(own, m); break;
          default: throw new Error('unknown stream kind');
        }
      } catch (e) { try { p.C_CloseSession(own); } catch { /* closing anyway */ } throw e; }
      return Buffer.from(own);
    }
    case 'stream-update':
      return streamUpdate(r.kind, buf(r.session), nonNull(buf(r.input)), r.outputLength);
    case 'stream-finish': {
      const own = buf(r.session);
      try {
        const head = r.input.length > 0 ? streamUpdate(r.kind, own, buf(r.input), r.outputLength) : Buffer.alloc(0);
        switch (r.kind) {
          case 'encrypt': return Buffer.concat([head, p.C_EncryptFinal(own, Buffer.alloc(r.outputLength))]);
          case 'decrypt': return Buffer.concat([head, p.C_DecryptFinal(own, Buffer.alloc(r.outputLength))]);
          case 'sign': return p.C_SignFinal(own, Buffer.alloc(r.outputLength));
          case 'digest': return p.C_DigestFinal(own, Buffer.alloc(r.outputLength));
          case 'verify':
            try { return Buffer.of(p.C_VerifyFinal(own, nonNull(buf(r.signature))) ? 1 : 0); }
            catch (e) { if (INVALID_SIGNATURE.has(e.message)) return Buffer.of(0); throw e; }
          default: throw new Error('unknown stream kind');
        }
      } finally { try { p.C_CloseSession(own); } catch { /* gone already */ } }
    }
    case 'stream-abort':
      try { p.C_CloseSession(buf(r.session)); } catch { /* gone already */ }
      return Buffer.alloc(0);
    case 'digest':
      p.C_DigestInit(session, mech(r.mechanism));
      return p.C_Digest(session, nonNull(buf(r.input)), Buffer.alloc(r.outputLength));
    case 'derive-read':
      return readAndDestroy(p.C_DeriveKey(session, mech(r.mechanism), buf(r.key), tmpl(r.template)));
    case 'pbkdf2': {
      const key = buf(r.key);
      const prf = (data) => { p.C_SignInit(session, mech(r.mechanism), key); return p.C_Sign(session, data, Buffer.alloc(64)); };
      const out = Buffer.alloc(r.length);
      for (let block = 1, offset = 0; offset < r.length; block++) {
        const index = Buffer.alloc(4);
        index.writeUInt32BE(block);
        let u = prf(Buffer.concat([nonNull(buf(r.salt)), index]));
        const t = Buffer.from(u);
        for (let i = 1; i < r.iterations; i++) {
          const next = prf(u);
          u.fill(0);
          u = next;
          for (let j = 0; j < t.length; j++) t[j] ^= u[j];
        }
        offset += t.copy(out, offset);
        t.fill(0);
        u.fill(0);
      }
      return out;
    }
    case 'create-wrap': {
      const value = buf(r.value);
      let object;
      try { object = p.C_CreateObject(session, [...tmpl(r.template), { type: pkcs11js.CKA_VALUE, value }]); }
      finally { value.fill(0); }
      try { return p.C_WrapKey(session, mech(r.wrap), buf(r.key), object, Buffer.alloc(r.outputLength)); }
      finally { destroy(object); }
    }
    default:
      throw new Error('unknown token thread request');
  }
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { p.C_CloseSession(session); } catch { /* closing anyway */ }
    parentPort.postMessage('closed');
    return;
  }
  let out;
  try {
    out = handle(m.request);
  } catch (e) {
    parentPort.postMessage({ id: m.id, ok: false, message: e instanceof Error ? e.message : 'unknown error' });
    return;
  }
  // A copy that owns its whole ArrayBuffer, moved to the main thread; the token's output buffer is zeroed here.
  const bytes = new Uint8Array(out);
  out.fill(0);
  parentPort.postMessage({ id: m.id, ok: true, bytes }, [bytes.buffer]);
});
`;

export class TokenThread {
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private closed = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply | 'closed') => {
      if (reply === 'closed') return;
      const waiting = this.pending.get(reply.id);
      if (waiting === undefined) return;
      this.pending.delete(reply.id);
      // While close() waits for the thread's 'closed' answer the worker stays referenced: a reply to a call
      // made before close() (a stream abort fired and forgotten) would otherwise unref it mid-wait, and a process
      // with nothing else to do would exit with close() never settled.
      if (this.pending.size === 0 && !this.closed) worker.unref();
      if (reply.ok)
        waiting.resolve(Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.length));
      else waiting.reject(toHsmError(waiting.operation, new Error(reply.message), waiting.codes));
    });
    worker.on('error', (error) => {
      this.failAll(toHsmError('token thread', error));
    });
    worker.on('exit', () => {
      this.closed = true;
      this.failAll(new HsmError('not-initialised', 'the token thread has stopped'));
    });
  }

  /** Starts the thread on the library at `modulePath`, already initialised and logged in by this process. */
  static start(
    modulePath: string,
    slot: Handle,
    options: { readonly nice?: number; readonly schedIdle?: boolean } = {},
  ): Promise<TokenThread> {
    const require = createRequire(import.meta.url);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        pkcs11js: require.resolve('pkcs11js'),
        modulePath,
        slot: Uint8Array.from(slot),
        nice: options.nice,
        schedIdle: options.schedIdle === true,
      },
      // No loader hooks or flags from the parent (tsx, --cpu-prof): the source is plain CommonJS.
      execArgv: [],
    });
    const thread = new TokenThread(worker);
    return new Promise((resolve, reject) => {
      worker.once('online', () => {
        // An idle thread must not keep the process alive on its own (callers close the Hsm); a call in flight
        // does (run() refs it again).
        worker.unref();
        resolve(thread);
      });
      worker.once('error', (error) => {
        reject(toHsmError('token thread start', error, { fallback: 'not-initialised' }));
      });
    });
  }

  /** Calls in flight. */
  get load(): number {
    return this.pending.size;
  }

  /** Runs one request; a failure comes back as an HsmError classified as `operation` with `codes`. */
  run(
    operation: string,
    request: Request,
    transfer: readonly ArrayBuffer[] = [],
    codes?: ErrorCodes,
  ): Promise<Buffer> {
    if (this.closed) return Promise.reject(new HsmError('not-initialised', 'the HSM is closed'));
    const id = this.next;
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return new Promise<Buffer>((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { operation, codes, resolve, reject });
      this.worker.postMessage({ id, request }, [...transfer]);
    });
  }

  /** Closes the thread's session and stops it; calls in flight finish first (the worker answers in order). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await new Promise<void>((resolve) => {
      const onMessage = (reply: unknown): void => {
        if (reply !== 'closed') return;
        this.worker.off('message', onMessage);
        resolve();
      };
      this.worker.on('message', onMessage);
      // A thread that died meanwhile never answers; its exit ends the wait as well.
      this.worker.once('exit', () => {
        resolve();
      });
      this.worker.ref();
      this.worker.postMessage('close');
    });
    await this.worker.terminate();
  }

  private failAll(error: HsmError): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }
}
