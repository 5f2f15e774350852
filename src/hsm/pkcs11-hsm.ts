/**
 * The Hsm over a PKCS#11 token (SoftHSM2 by default, any module in production), as DESIGN.md "Keys behind the
 * token" describes. The hierarchy as built:
 *
 *   master  token object  CKK_AES 256, CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, not CKA_EXTRACTABLE, not
 *                          CKA_MODIFIABLE, CKA_WRAP/CKA_UNWRAP only; label "kmipd-master-<n>", the highest n current.
 *   KEK     session obj.  CKK_AES 256 from CKM_AES_KEY_GEN, sensitive, extractable only so the master can wrap it;
 *                          stored as CKM_AES_KEY_WRAP_PAD(master, KEK) (PKCS#11 v2.40 curr. mech. §2.14;
 *                          see envelope.ts for how SoftHSM2 pads).
 *                          Unwrapped on first use into a session object that is *not* extractable (wrap, unwrap,
 *                          and encrypt/decrypt for the GCM layout), and kept as a handle (an LRU of kekCacheSize)
 *                          so that a hot owner does not unwrap at every call.
 *   secret  client bytes (seal): AES-256-GCM by the KEK in the token, IV and AAD as envelope.ts layout 4 says;
 *                          one C_Encrypt, and one C_Decrypt to read back, no session object.
 *           generated keys: generated in the token and wrapped with CKM_AES_KEY_WRAP_PAD under the KEK (layout 2).
 *                          SoftHSM2 2.6.1's C_WrapKey takes neither CKM_AES_GCM nor CKM_AES_CBC_PAD (both
 *                          CKR_MECHANISM_INVALID), only unpadded CKM_AES_CBC, which has no integrity and no room for
 *                          AES-192, DES or HMAC lengths; and C_DecryptInit refuses the key-wrap mechanisms. So
 *                          these keys are read by unwrapping them as a readable generic secret, reading CKA_VALUE
 *                          and destroying the object, all on the token thread (about 200 µs of it). The first Get
 *                          of such a key, which has its bytes for the client anyway, stores them sealed again in
 *                          the GCM layout (readsFasterResealed, KeyService.unsealToServe).
 *           private keys: generated in the token, wrapped as the token's PKCS#8 encoding (layout 3), and sealed
 *                          again on their first Get likewise.
 *
 * Where the calls run: the short ones of seal, unseal and secret key generation on the token thread
 * (token-thread.ts), which costs the event loop one message each way; key pair generation on key pair threads at
 * a low CPU priority; KEK unwrap, KEK creation and rotation with pkcs11js *Async calls on the libuv pool. Calls
 * that remain synchronous on the event loop, none of them per Get, Register or Create of a secret key:
 * C_DestroyObject of evicted KEKs and of key pair objects, C_GetAttributeValue of public keys and DSA domains,
 * C_GenerateRandom (random()), and the start-up and master-key administration calls.
 */
import { createPublicKey, randomFillSync, randomUUID, type JsonWebKey } from 'node:crypto';
import { cpus } from 'node:os';
import { dsaSpki, ecPointFromAttribute } from './der.js';
import {
  decodeKekBlob,
  decodeSecretBlob,
  encodeKekBlob,
  encodeSecretBlob,
  frame,
  GCM_IV_BYTES,
  GCM_TAG_BYTES,
  gcmAad,
  gcmParts,
  secretHeader,
  unframe,
} from './envelope.js';
import {
  HsmError,
  type CipherResult,
  type CipherSpec,
  type GeneratedKeyPair,
  type GeneratedSecretKey,
  type HashName,
  type Hsm,
  type KeyRef,
  type MacSpec,
  type SignatureSpec,
  type StreamOperation,
  type StreamResult,
  type KeyPairSpec,
  type SealedKek,
  type SealedSecret,
  type SecretKeyAlgorithm,
  type WrapMode,
} from './hsm.js';
import {
  bigintToBytes,
  checkKeyPairSpec,
  checkRandomLength,
  checkSealInput,
  curves,
  secretKeyShape,
  type CheckedKeyPairSpec,
  type SecretKeyKind,
} from './key-specs.js';
import {
  call,
  callAsync,
  ck,
  ckrName,
  sessionSecret,
  toHsmError,
  type Handle,
  type Mechanism,
  type Pkcs11,
  type Template,
} from './pkcs11-module.js';
import { HeldObjects } from './held-objects.js';
import { TokenCrypto } from './token-crypto.js';
import { Gate, SessionPool } from './session-pool.js';
import { gcmMechanism, TokenThread, type ThreadMechanism } from './token-thread.js';
import { openToken, type TokenOptions, type TokenReport } from './token.js';

export interface Pkcs11HsmOptions {
  readonly token: TokenOptions;
  /** Logged-in sessions in the pool (default 6): the number of token calls that can run at once. */
  readonly sessions?: number;
  /**
   * Key pair generations at once (default: one less than the CPU count, at least 1). Each holds a session, a libuv
   * worker thread (4 unless UV_THREADPOOL_SIZE says otherwise) and a whole core for up to seconds; the cap keeps a
   * core, sessions and threads free for the event loop, seal, unseal and the store.
   */
  readonly keyPairConcurrency?: number;
  /**
   * The niceness (0 to 19) of the threads that generate key pairs (default KEY_PAIR_NICE). Higher keeps Get and
   * Create latency low while RSA runs, at the price of slower key pairs when the CPU is saturated.
   */
  readonly keyPairNice?: number;
  /**
   * Whether key pair threads also take the SCHED_IDLE policy (Linux, through chrt; default true): they then run on
   * time no other thread wants and give the core back at once to a waking event loop, where niceness alone still
   * let a generation hold a core for a time slice. Measured beside 2 connections generating RSA-2048 pairs, Get at 8
   * connections went from 2,400-3,400/s (p99 7.5-12 ms) to 3,900-6,600/s (p99 4.8-9.4 ms), with about a third fewer
   * key pairs in the window: they use only what the requests leave. The price: when requests alone keep every core
   * busy, SCHED_IDLE's weight (3, against 110 for nice 10 and 1024 for the event loop) slows a generation to about a
   * hundredth of what nice 10 leaves it; false keeps niceness alone, with its bounded time per key pair.
   */
  readonly keyPairIdle?: boolean;
  /**
   * What seal() writes (default CKM_AES_GCM where the token passes the self-test). CKM_AES_KEY_WRAP_PAD keeps
   * writing the key-wrap layout that versions before the GCM layout can read, for a rollback window; unseal()
   * reads both either way.
   */
  readonly sealMechanism?: 'CKM_AES_GCM' | 'CKM_AES_KEY_WRAP_PAD';
  /**
   * Token threads for the short calls (default: one less than the CPU count, 1 to 4). One thread reads about 18k
   * GCM blobs/s or 6k key-wrapped keys/s; more help only where there are cores beyond the event loop's.
   */
  readonly tokenThreads?: number;
  /**
   * Whether unseal() decrypts a GCM blob on a token thread rather than on the event loop: always, never (the
   * default), or whenever this function says so at the time of the call. A hand-off costs a thread wake-up in
   * latency (measured in one process: Get at 1 connection 2,660/s against 3,850/s on the event loop), and saves the
   * event loop's time, which pays only when other requests wait for it (Get at 8 connections: 4,890/s against
   * 3,770/s). The appliance says "when more than one connection is busy" (server/client-activity.ts).
   */
  readonly gcmUnsealOnThread?: boolean | (() => boolean);
  /** Unwrapped KEK handles kept in the token (default 1024). */
  readonly kekCacheSize?: number;
  /** Managed keys kept in the token as session objects for cryptographic calls (default 1024). */
  readonly keyCacheSize?: number;
  /** Master key labels are this prefix and a number (default "kmipd-master-"). */
  readonly masterLabelPrefix?: string;
}

/** What opening found or made, for the start-up banner. Holds no secret. */
export interface Pkcs11HsmReport {
  readonly token: TokenReport;
  readonly masterLabel: string;
  /** True when this start created the first master key. */
  readonly masterCreated: boolean;
  /** Which optional algorithms the token offers. */
  readonly supports: { readonly des: boolean; readonly dsa: boolean; readonly ec: boolean };
  /**
   * How seal() protects client bytes: AES-GCM when the token offers CKM_AES_GCM for C_Encrypt/C_Decrypt and passed
   * the start-up self-test, else AES key wrap with padding (the layout earlier versions wrote).
   */
  readonly sealMechanism: 'CKM_AES_GCM' | 'CKM_AES_KEY_WRAP_PAD';
}

const SHA256_BYTES = 32;

/** The only wrapping mechanism used: AES key wrap with padding (RFC 5649), which takes any key length. */
const KWP = { mechanism: ck.CKM_AES_KEY_WRAP_PAD };

/** Output room for a wrapped private key: RSA-4096 PKCS#8 is about 2.4 KB, plus the 8-byte RFC 5649 overhead. */
const PRIVATE_KEY_WRAP_ROOM = 8192;
/** RFC 5649 output is the input rounded up to 8 bytes plus one 8-byte semiblock; 16 covers both. */
const WRAP_OVERHEAD = 16;
const MASTER_BYTES = 32;
/**
 * The default niceness of key pair threads. Raising it needs no privilege. Linux CFS weighs nice 10 at 110 against
 * 1024 for nice 0, so on a saturated machine an RSA generation gets about a tenth of a core (an RSA-2048 pair in
 * seconds rather than never, as nice 19's weight of 15 would give), and otherwise whatever is idle.
 */
const KEY_PAIR_NICE = 10;
const KEK_BYTES = 32;

const secretKeyMechanisms: Readonly<
  Record<SecretKeyKind, { mechanism: number; keyType: number; name: string }>
> = {
  AES: { mechanism: ck.CKM_AES_KEY_GEN, keyType: ck.CKK_AES, name: 'CKM_AES_KEY_GEN' },
  DES: { mechanism: ck.CKM_DES_KEY_GEN, keyType: ck.CKK_DES, name: 'CKM_DES_KEY_GEN' },
  DES2: { mechanism: ck.CKM_DES2_KEY_GEN, keyType: ck.CKK_DES2, name: 'CKM_DES2_KEY_GEN' },
  DES3: { mechanism: ck.CKM_DES3_KEY_GEN, keyType: ck.CKK_DES3, name: 'CKM_DES3_KEY_GEN' },
  // HMAC keys are generic secrets: SoftHSM2 2.6.1 refuses CKK_SHA*_HMAC with CKM_GENERIC_SECRET_KEY_GEN
  // (CKR_TEMPLATE_INCONSISTENT), and the bytes are the same.
  GENERIC: {
    mechanism: ck.CKM_GENERIC_SECRET_KEY_GEN,
    keyType: ck.CKK_GENERIC_SECRET,
    name: 'CKM_GENERIC_SECRET_KEY_GEN',
  },
};

const keyPairMechanisms: Readonly<
  Record<CheckedKeyPairSpec['algorithm'], { mechanism: number; name: string }>
> = {
  RSA: { mechanism: ck.CKM_RSA_PKCS_KEY_PAIR_GEN, name: 'CKM_RSA_PKCS_KEY_PAIR_GEN' },
  EC: { mechanism: ck.CKM_EC_KEY_PAIR_GEN, name: 'CKM_EC_KEY_PAIR_GEN' },
  DSA: { mechanism: ck.CKM_DSA_KEY_PAIR_GEN, name: 'CKM_DSA_KEY_PAIR_GEN' },
};

/** Attributes every key object made here shares: a session object, only visible after login. */
const sessionKey: Template = [
  { type: ck.CKA_TOKEN, value: false },
  { type: ck.CKA_PRIVATE, value: true },
];

/** A key that may do nothing but wrap and unwrap (PKCS#11 v2.40 §4.10, secret key objects). */
const wrapOnly: Template = [
  { type: ck.CKA_WRAP, value: true },
  { type: ck.CKA_UNWRAP, value: true },
  { type: ck.CKA_ENCRYPT, value: false },
  { type: ck.CKA_DECRYPT, value: false },
  { type: ck.CKA_SIGN, value: false },
  { type: ck.CKA_VERIFY, value: false },
  { type: ck.CKA_DERIVE, value: false },
];

const aesKey = (extractable: boolean): Template => [
  { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
  ...sessionKey,
  { type: ck.CKA_SENSITIVE, value: true },
  { type: ck.CKA_EXTRACTABLE, value: extractable },
  ...wrapOnly,
];

/**
 * An owner KEK as cached in the token: not extractable (it can never be wrapped out again), and besides wrap and
 * unwrap it may encrypt and decrypt, which the AES-GCM layout needs (PKCS#11 v2.40 §4.10: CKA_ENCRYPT and
 * CKA_DECRYPT govern C_EncryptInit and C_DecryptInit). It stays sensitive, so its value is never readable.
 *
 * Not CKA_PRIVATE, unlike the other session keys: SoftHSM2 keeps the value of a private object encrypted under its
 * login key in its own memory and decrypts it at every C_EncryptInit, C_DecryptInit, C_WrapKey and C_UnwrapKey,
 * which is about a third of the token's time in the C_Decrypt of every Get (measured: 24 µs a GCM decryption of
 * 32 bytes with a private key, 17 µs without). A session object lives only in this process's sessions, which are
 * all logged in, and the PKCS#11 API still never reveals a sensitive, non-extractable value.
 */
const cachedKek = (gcm: boolean): Template => [
  { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
  { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
  { type: ck.CKA_TOKEN, value: false },
  { type: ck.CKA_PRIVATE, value: false },
  { type: ck.CKA_SENSITIVE, value: true },
  { type: ck.CKA_EXTRACTABLE, value: false },
  { type: ck.CKA_WRAP, value: true },
  { type: ck.CKA_UNWRAP, value: true },
  { type: ck.CKA_ENCRYPT, value: gcm },
  { type: ck.CKA_DECRYPT, value: gcm },
  { type: ck.CKA_SIGN, value: false },
  { type: ck.CKA_VERIFY, value: false },
  { type: ck.CKA_DERIVE, value: false },
];

/** Opens the token (creating it in the embedded case), the session pool and the master key. */
export async function openPkcs11Hsm(options: Pkcs11HsmOptions): Promise<Pkcs11Hsm> {
  const token = openToken(options.token);
  const size = options.sessions ?? 6;
  if (!Number.isInteger(size) || size < 1 || size > 64) {
    throw new HsmError('not-initialised', 'sessions must be 1 to 64');
  }
  const mechanisms = new Set(call('C_GetMechanismList', () => token.pkcs11.C_GetMechanismList(token.slot)));
  for (const [mechanism, name] of [
    [ck.CKM_AES_KEY_GEN, 'CKM_AES_KEY_GEN'],
    [ck.CKM_AES_KEY_WRAP_PAD, 'CKM_AES_KEY_WRAP_PAD'],
  ] as const) {
    if (!mechanisms.has(mechanism))
      throw new HsmError('unsupported', `the token lacks ${name}, which the key hierarchy needs`);
  }
  const sessions: Handle[] = [];
  try {
    for (let i = 0; i < size; i += 1) sessions.push(token.openSession());
  } catch (error) {
    for (const session of sessions) token.closeSession(session);
    throw error;
  }
  const pool = new SessionPool(sessions, (session) => {
    token.closeSession(session);
  });
  const count = options.tokenThreads ?? Math.max(1, Math.min(4, cpus().length - 1));
  if (!Number.isInteger(count) || count < 1 || count > 16) {
    await pool.close();
    throw new HsmError('not-initialised', 'tokenThreads must be 1 to 16');
  }
  const threads: TokenThread[] = [];
  try {
    for (let i = 0; i < count; i += 1)
      threads.push(await TokenThread.start(token.report.modulePath, token.slot));
  } catch (error) {
    for (const started of threads) await started.close();
    await pool.close();
    throw error;
  }
  const hsm = new Pkcs11Hsm(
    token.pkcs11,
    pool,
    threads,
    token.report.modulePath,
    token.slot,
    mechanisms,
    options,
  );
  try {
    await hsm.start(token.report);
  } catch (error) {
    await hsm.close();
    throw error;
  }
  return hsm;
}

export class Pkcs11Hsm implements Hsm {
  private readonly masters = new Map<string, Handle>();
  private current = '';
  private startReport: Pkcs11HsmReport | undefined;
  private readonly keks: HeldObjects<Handle>;
  private readonly keyPairGate: Gate;
  /** Rotation and retirement one at a time, so two rotations never pick the same label. */
  private readonly adminGate = new Gate(1);
  private readonly prefix: string;
  private readonly keyPairNice: number;
  private readonly keyPairIdle: boolean;
  private readonly keyPairThreads = new Set<TokenThread>();
  private readonly idleKeyPairThreads: TokenThread[] = [];
  /** Whether the token does CKM_AES_GCM as this code calls it (decided once at start, see selfTestGcm()). */
  private gcm = false;
  /** Whether seal() writes the GCM layout. */
  private sealGcmLayout = false;
  private readonly preferGcm: boolean;
  private readonly crypto: TokenCrypto;
  private readonly gcmUnsealOnThread: () => boolean;

  /** Use openPkcs11Hsm(). */
  constructor(
    private readonly pkcs11: Pkcs11,
    private readonly pool: SessionPool,
    private readonly threads: readonly TokenThread[],
    private readonly modulePath: string,
    private readonly slot: Handle,
    private readonly mechanisms: ReadonlySet<number>,
    options: Pkcs11HsmOptions,
  ) {
    this.keks = new HeldObjects<Handle>(
      Math.max(0, options.kekCacheSize ?? 1024),
      (handle) => handle,
      (handle) => {
        this.destroyLater(handle);
      },
    );
    // Key pair generation is CPU-bound in the token library: on a 2-core machine two RSA generations at once take
    // both cores from the event loop, and Get latency goes from milliseconds to tens of them.
    const defaultKeyPairs = Math.max(1, cpus().length - 1);
    this.keyPairGate = new Gate(
      Math.max(1, Math.min(options.keyPairConcurrency ?? defaultKeyPairs, pool.size)),
    );
    this.prefix = options.masterLabelPrefix ?? 'kmipd-master-';
    const nice = options.keyPairNice ?? KEY_PAIR_NICE;
    if (!Number.isInteger(nice) || nice < 0 || nice > 19)
      throw new HsmError('not-initialised', 'keyPairNice must be 0 to 19');
    this.keyPairNice = nice;
    this.keyPairIdle = options.keyPairIdle ?? true;
    this.preferGcm = options.sealMechanism !== 'CKM_AES_KEY_WRAP_PAD';
    const onThread = options.gcmUnsealOnThread ?? false;
    this.gcmUnsealOnThread = typeof onThread === 'function' ? onThread : () => onThread;
    this.crypto = new TokenCrypto(
      {
        thread: () => this.tokenThread(),
        withKek: (kek, fn) => this.pool.use((session) => this.withKek(session, kek, fn)),
        unseal: (kek, sealed) => this.unseal(kek, sealed),
        destroy: (object) => {
          this.destroyLater(object);
        },
        attributes: (object, types) => this.pool.use((session) => this.attributes(session, object, types)),
      },
      Math.max(1, options.keyCacheSize ?? 1024),
    );
  }

  /** What the start found or made (token, master key, optional algorithms). */
  get report(): Pkcs11HsmReport {
    if (this.startReport === undefined) throw new HsmError('not-initialised', 'the HSM has not started');
    return this.startReport;
  }

  /** Finds the master keys in the token, creating the first one on a new token. Called once by openPkcs11Hsm. */
  async start(token: TokenReport): Promise<void> {
    let created = false;
    await this.pool.use(async (session) => {
      for (const [label, handle] of this.findMasters(session)) this.masters.set(label, handle);
      if (this.masters.size === 0) {
        await this.createMaster(session, `${this.prefix}1`);
        created = true;
      }
      this.gcm = this.mechanisms.has(ck.CKM_AES_GCM) && (await this.selfTestGcm(session));
      this.sealGcmLayout = this.gcm && this.preferGcm;
    });
    this.current = this.latestMaster();
    const has = (mechanism: number): boolean => this.mechanisms.has(mechanism);
    this.startReport = {
      token,
      masterLabel: this.current,
      masterCreated: created,
      supports: {
        des: has(ck.CKM_DES_KEY_GEN) && has(ck.CKM_DES3_KEY_GEN),
        dsa: has(ck.CKM_DSA_KEY_PAIR_GEN) && has(ck.CKM_DSA_PARAMETER_GEN),
        ec: has(ck.CKM_EC_KEY_PAIR_GEN),
      },
      sealMechanism: this.sealGcmLayout ? 'CKM_AES_GCM' : 'CKM_AES_KEY_WRAP_PAD',
    };
  }

  currentMasterLabel(): string {
    return this.current;
  }

  async createKek(): Promise<SealedKek> {
    const masterLabel = this.current;
    const master = this.masterHandle(masterLabel);
    return this.pool.use(async (session) => {
      const kek = await callAsync('C_GenerateKey KEK', () =>
        this.pkcs11.C_GenerateKeyAsync(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
          ...aesKey(true),
          { type: ck.CKA_VALUE_LEN, value: KEK_BYTES },
        ]),
      );
      try {
        const wrapped = await callAsync('C_WrapKey KEK', () =>
          this.pkcs11.C_WrapKeyAsync(session, KWP, master, kek, Buffer.alloc(KEK_BYTES + WRAP_OVERHEAD)),
        );
        return { id: randomUUID(), masterLabel, blob: encodeKekBlob(wrapped) };
      } finally {
        this.destroy(session, kek);
      }
    });
  }

  async rotateMaster(): Promise<string> {
    return this.adminGate.run(() =>
      this.pool.use(async (session) => {
        const label = `${this.prefix}${String(this.masterNumber(this.latestMaster()) + 1)}`;
        await this.createMaster(session, label);
        this.current = label;
        return label;
      }),
    );
  }

  async rewrapKek(kek: SealedKek): Promise<SealedKek> {
    const target = this.current;
    if (kek.masterLabel === target) return kek;
    const from = this.masterHandle(kek.masterLabel);
    const to = this.masterHandle(target);
    const wrapped = decodeKekBlob(kek.blob);
    return this.pool.use(async (session) => {
      // Extractable for this one wrap under the new master; it never leaves the token in clear.
      const key = await callAsync(
        'C_UnwrapKey KEK',
        () => this.pkcs11.C_UnwrapKeyAsync(session, KWP, from, asBuffer(wrapped), aesKey(true)),
        { unwrap: 'bad-key' },
      );
      try {
        const rewrapped = await callAsync('C_WrapKey KEK', () =>
          this.pkcs11.C_WrapKeyAsync(session, KWP, to, key, Buffer.alloc(KEK_BYTES + WRAP_OVERHEAD)),
        );
        return { id: kek.id, masterLabel: target, blob: encodeKekBlob(rewrapped) };
      } finally {
        this.destroy(session, key);
      }
    });
  }

  async retireMaster(label: string): Promise<void> {
    await this.adminGate.run(() =>
      this.pool.use((session) => {
        if (label === this.current) throw new HsmError('bad-key', `${label} is the current master key`);
        const handle = this.masterHandle(label);
        call('C_DestroyObject master', () => {
          this.pkcs11.C_DestroyObject(session, handle);
        });
        this.masters.delete(label);
        // KEKs unwrapped under the retired master must stop working now, not when the cache forgets them.
        this.keks.dropWhere((key) => key.startsWith(`${label}\n`));
      }),
    );
  }

  async generateSecretKey(
    kek: SealedKek,
    algorithm: SecretKeyAlgorithm,
    bits: number,
  ): Promise<GeneratedSecretKey> {
    const shape = secretKeyShape(algorithm, bits);
    const { mechanism, keyType, name } = secretKeyMechanisms[shape.kind];
    this.requireMechanism(mechanism, name);
    const template: Template = [
      { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
      { type: ck.CKA_KEY_TYPE, value: keyType },
      ...sessionKey,
      { type: ck.CKA_SENSITIVE, value: true },
      { type: ck.CKA_EXTRACTABLE, value: true },
      // DES key types fix their length; AES and generic secret key generation need CKA_VALUE_LEN.
      ...(shape.kind === 'AES' || shape.kind === 'GENERIC'
        ? [{ type: ck.CKA_VALUE_LEN, value: shape.bytes }]
        : []),
    ];
    return this.pool.use((session) =>
      this.withKek(session, kek, async (wrappingKey) => {
        // C_GenerateKey, C_WrapKey and C_DestroyObject on the token thread: the key exists only inside the token
        // until it is wrapped, and the event loop makes no token call.
        const answer = await this.tokenThread().run(`C_GenerateKey ${algorithm} / C_WrapKey`, {
          op: 'generate-wrap',
          key: handleBytes(wrappingKey),
          generate: { mechanism },
          template,
          wrap: KWP,
          outputLength: shape.bytes + WRAP_OVERHEAD,
        });
        const wrapped = answer.subarray(0, answer.length - SHA256_BYTES);
        const sha256 = Uint8Array.from(answer.subarray(answer.length - SHA256_BYTES));
        return {
          kekId: kek.id,
          format: 'raw',
          blob: encodeSecretBlob('sized', shape.bytes, wrapped),
          sha256,
        };
      }),
    );
  }

  async generateKeyPair(kek: SealedKek, spec: KeyPairSpec): Promise<GeneratedKeyPair> {
    const checked = checkKeyPairSpec(spec);
    const { mechanism, name } = keyPairMechanisms[checked.algorithm];
    this.requireMechanism(mechanism, name);
    if (checked.algorithm === 'DSA') this.requireMechanism(ck.CKM_DSA_PARAMETER_GEN, 'CKM_DSA_PARAMETER_GEN');
    return this.keyPairGate.run(() =>
      this.pool.use((session) =>
        this.withKek(session, kek, async (wrappingKey) => {
          const domain =
            checked.algorithm === 'DSA' ? await this.dsaDomain(session, checked.bits) : undefined;
          const publicTemplate: Template = [
            { type: ck.CKA_TOKEN, value: false },
            { type: ck.CKA_PRIVATE, value: false },
            ...publicKeyAttributes(checked, domain),
          ];
          const privateTemplate: Template = [
            ...sessionKey,
            { type: ck.CKA_SENSITIVE, value: true },
            { type: ck.CKA_EXTRACTABLE, value: true },
          ];
          const pair = await this.generatePair(checked.algorithm, {
            op: 'generate-pair',
            mechanism: { mechanism },
            publicTemplate,
            privateTemplate,
          });
          try {
            const publicKeySpki = this.publicKeySpki(session, pair.publicKey, checked, domain);
            const wrapped = await callAsync('C_WrapKey private key', () =>
              this.pkcs11.C_WrapKeyAsync(
                session,
                KWP,
                wrappingKey,
                pair.privateKey,
                Buffer.alloc(PRIVATE_KEY_WRAP_ROOM),
              ),
            );
            return {
              publicKeySpki,
              privateKey: { kekId: kek.id, format: 'pkcs8', blob: encodeSecretBlob('der', 0, wrapped) },
            };
          } finally {
            this.destroy(session, pair.privateKey);
            this.destroy(session, pair.publicKey);
          }
        }),
      ),
    );
  }

  /** The token thread with the fewest calls in flight. */
  private tokenThread(): TokenThread {
    let best: TokenThread | undefined;
    for (const thread of this.threads) if (best === undefined || thread.load < best.load) best = thread;
    if (best === undefined) throw new HsmError('not-initialised', 'the HSM has no token thread');
    return best;
  }

  /**
   * C_GenerateKeyPair on a key pair thread of its own, at a low CPU priority (keyPairNice). RSA generation is
   * seconds of pure CPU; on the libuv pool at normal priority it took a core from the event loop and the token
   * thread, and Get p99 rose from single to tens of milliseconds. Niced, it runs mostly on what they leave. The
   * threads start on first use, at most keyPairConcurrency of them (the gate above holds the rest back).
   */
  private async generatePair(
    algorithm: string,
    request: Parameters<TokenThread['run']>[1],
  ): Promise<{ publicKey: Handle; privateKey: Handle }> {
    const thread =
      this.idleKeyPairThreads.pop() ??
      (await TokenThread.start(this.modulePath, this.slot, {
        nice: this.keyPairNice,
        schedIdle: this.keyPairIdle,
      }));
    try {
      const handles = await thread.run(`C_GenerateKeyPair ${algorithm}`, request);
      const split = 1 + (handles[0] ?? 0);
      return { publicKey: handles.subarray(1, split), privateKey: handles.subarray(split) };
    } finally {
      this.keyPairThreads.add(thread);
      this.idleKeyPairThreads.push(thread);
    }
  }

  async seal(kek: SealedKek, plaintext: Uint8Array, format: SealedSecret['format']): Promise<SealedSecret> {
    checkSealInput(plaintext);
    if (this.sealGcmLayout) return this.sealGcm(kek, plaintext, format);
    return this.pool.use((session) =>
      this.withKek(session, kek, async (wrappingKey) => {
        // A fresh ArrayBuffer that moves to the token thread, which zeroes it once the token has the value.
        const inner = frame(plaintext);
        const value = new Uint8Array(inner);
        inner.fill(0);
        const wrapped = await this.tokenThread().run(
          'C_CreateObject secret / C_WrapKey',
          {
            op: 'create-wrap',
            key: handleBytes(wrappingKey),
            template: sessionSecret(false),
            value,
            wrap: KWP,
            outputLength: value.length + WRAP_OVERHEAD,
          },
          [value.buffer],
        );
        return { kekId: kek.id, format, blob: encodeSecretBlob('framed', 0, wrapped) };
      }),
    );
  }

  async unseal(kek: SealedKek, sealed: SealedSecret): Promise<Uint8Array> {
    if (sealed.kekId !== kek.id)
      throw new HsmError('unseal-failed', 'the secret was sealed under another KEK');
    const decoded = decodeSecretBlob(sealed.blob);
    if (decoded.layout === 'gcm') {
      const parts = gcmParts(sealed.blob, decoded);
      const aad = gcmAad(parts.header, sealed.format, kek.id);
      return this.pool.use((session) =>
        this.withKek(session, kek, async (key) => {
          // SoftHSM2's C_DecryptInit (the key's value read back, OpenSSL's cipher set up) was about 14% of the
          // event loop's time in a Get under load: on a token thread when other requests wait for the event loop,
          // here when none do, where a hand-off would only add latency (Pkcs11HsmOptions.gcmUnsealOnThread).
          const plaintext = this.gcmUnsealOnThread()
            ? await this.tokenThread().run(
                'C_Decrypt CKM_AES_GCM',
                {
                  op: 'decrypt',
                  key: handleBytes(key),
                  // Fresh copies: a view posted to a thread takes its whole buffer along, and the blob's and the
                  // AAD's are slices of Node's shared 8 KiB pool, where other requests' key material may lie.
                  mechanism: gcmMechanism(Uint8Array.from(parts.iv), Uint8Array.from(aad)),
                  input: Uint8Array.from(parts.ciphertext),
                  // SoftHSM2 2.6.1 wants room for the whole input, as in decryptGcmHere().
                  outputLength: parts.ciphertext.length,
                },
                [],
                { unwrap: 'unseal-failed' },
              )
            : this.decryptGcmHere(session, key, parts.iv, aad, parts.ciphertext);
          if (plaintext.length !== decoded.length) {
            plaintext.fill(0);
            throw new HsmError('unseal-failed', 'sealed secret length does not match its contents');
          }
          return plaintext;
        }),
      );
    }
    return this.pool.use((session) =>
      this.withKek(session, kek, async (wrappingKey) => {
        // Unwrapped as a readable generic secret, read and destroyed on the token thread (no async variants of
        // C_GetAttributeValue and C_DestroyObject exist, so here they cost the event loop nothing).
        const inner = await this.tokenThread().run(
          'C_UnwrapKey secret',
          {
            op: 'unwrap-read',
            key: handleBytes(wrappingKey),
            mechanism: KWP,
            wrapped: decoded.wrapped.slice(),
            template: sessionSecret(true),
          },
          [],
          { unwrap: 'unseal-failed' },
        );
        try {
          return unframe(decoded, inner);
        } finally {
          inner.fill(0);
        }
      }),
    );
  }

  /**
   * The key-wrap layouts are read by unwrapping into a token object, reading and destroying it (about 200 µs of
   * token thread per read on SoftHSM2 2.6.1); the GCM layout by one C_Decrypt (about 15 µs). Only when seal()
   * writes the GCM layout is sealing again any faster.
   */
  readsFasterResealed(sealed: SealedSecret): boolean {
    return this.sealGcmLayout && decodeSecretBlob(sealed.blob).layout !== 'gcm';
  }

  /**
   * One CKM_AES_GCM decryption of a sealed secret on the event loop, with the pool's session: no thread hand-off, the
   * lowest latency when no other request waits for the event loop (see unseal()).
   */
  private decryptGcmHere(
    session: Handle,
    key: Handle,
    iv: Uint8Array,
    aad: Uint8Array,
    ciphertext: Uint8Array,
  ): Buffer {
    // The token thread's GCM parameters (gcmMechanism: the CK_GCM_PARAMS layout SoftHSM2 reads), with its byte
    // fields as the Buffers pkcs11js takes on this thread.
    const mechanism = mechanismHere(gcmMechanism(iv, aad));
    call('C_DecryptInit CKM_AES_GCM', () => {
      this.pkcs11.C_DecryptInit(session, mechanism, key);
    });
    // SoftHSM2 2.6.1 wants room for the whole input (it answers CKR_BUFFER_TOO_SMALL otherwise). A failed tag
    // check is CKR_ENCRYPTED_DATA_INVALID by PKCS#11 v2.40 §5.9, CKR_GENERAL_ERROR in SoftHSM2; either ends the
    // operation (§5.9: a C_Decrypt call that fails other than CKR_BUFFER_TOO_SMALL terminates it).
    return call(
      'C_Decrypt CKM_AES_GCM',
      () => this.pkcs11.C_Decrypt(session, asBuffer(ciphertext), Buffer.alloc(ciphertext.length)),
      { unwrap: 'unseal-failed' },
    );
  }

  /** seal() as layout 4: one C_EncryptInit and C_Encrypt on the token thread, no session object. */
  private async sealGcm(
    kek: SealedKek,
    plaintext: Uint8Array,
    format: SealedSecret['format'],
  ): Promise<SealedSecret> {
    const header = secretHeader('gcm', plaintext.length);
    // The IV only has to be unique per KEK (SP 800-38D §8.2.2), not secret: node's CSPRNG gives it without a
    // token call.
    const iv = randomFillSync(new Uint8Array(GCM_IV_BYTES));
    const aad = gcmAad(header, format, kek.id);
    // A fresh ArrayBuffer that moves to the token thread, which zeroes it after C_Encrypt.
    const input = new Uint8Array(plaintext);
    const ciphertext = await this.pool.use((session) =>
      this.withKek(session, kek, (key) =>
        this.tokenThread().run(
          'C_Encrypt CKM_AES_GCM',
          {
            op: 'encrypt',
            key: handleBytes(key),
            // A fresh copy of the AAD: Buffer.concat makes it in Node's shared pool (see unseal()).
            mechanism: gcmMechanism(iv, Uint8Array.from(aad)),
            input,
            outputLength: plaintext.length + GCM_TAG_BYTES,
          },
          [input.buffer],
        ),
      ),
    );
    if (ciphertext.length !== plaintext.length + GCM_TAG_BYTES) {
      throw new HsmError('token-error', 'C_Encrypt CKM_AES_GCM gave an unexpected length');
    }
    return { kekId: kek.id, format, blob: Buffer.concat([header, iv, ciphertext]) };
  }

  /**
   * Whether CKM_AES_GCM works for C_Encrypt/C_Decrypt as this code calls it: a round trip with a throwaway key, a
   * wrong AAD refused, and the ciphertext not containing the plaintext. A module that fails (or offers GCM only
   * for C_WrapKey) keeps the key-wrap layout for seal(); blobs in layout 4 then fail to open.
   */
  private async selfTestGcm(session: Handle): Promise<boolean> {
    let key: Handle | undefined;
    try {
      key = await callAsync('C_GenerateKey GCM self-test', () =>
        this.pkcs11.C_GenerateKeyAsync(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
          ...cachedKek(true),
          { type: ck.CKA_VALUE_LEN, value: KEK_BYTES },
        ]),
      );
      const probe = Buffer.from('kmipd GCM self-test, 33 bytes....');
      const iv = randomFillSync(new Uint8Array(GCM_IV_BYTES));
      const aad = Buffer.from('aad');
      const run = (op: 'encrypt' | 'decrypt', input: Uint8Array, aadUsed: Uint8Array): Promise<Buffer> =>
        this.tokenThread().run(
          `C_${op} CKM_AES_GCM self-test`,
          {
            op,
            key: handleBytes(key ?? Buffer.alloc(0)),
            mechanism: gcmMechanism(iv, Uint8Array.from(aadUsed)),
            input: Uint8Array.from(input),
            outputLength: input.length + GCM_TAG_BYTES,
          },
          [],
          { unwrap: 'unseal-failed' },
        );
      const sealed = await run('encrypt', probe, aad);
      if (sealed.length !== probe.length + GCM_TAG_BYTES || sealed.includes(probe)) return false;
      if (!(await run('decrypt', sealed, aad)).equals(probe)) return false;
      return await run('decrypt', sealed, Buffer.from('AAD')).then(
        () => false,
        (error: unknown) => error instanceof HsmError && error.code === 'unseal-failed',
      );
    } catch {
      return false;
    } finally {
      if (key !== undefined) this.destroy(session, key);
    }
  }

  async random(length: number): Promise<Uint8Array> {
    checkRandomLength(length);
    if (length === 0) return new Uint8Array(0);
    return this.pool.use((session) =>
      Uint8Array.from(
        call('C_GenerateRandom', () => this.pkcs11.C_GenerateRandom(session, Buffer.alloc(length))),
      ),
    );
  }

  async seedRandom(seed: Uint8Array): Promise<boolean> {
    checkRandomLength(seed.length);
    return this.pool.use((session) => {
      try {
        this.pkcs11.C_SeedRandom(session, Buffer.from(seed));
        return true;
      } catch (error) {
        // PKCS#11 v2.40 §5.15: a token whose generator takes no seed answers CKR_RANDOM_SEED_NOT_SUPPORTED (or
        // CKR_RANDOM_NO_RNG); that is an answer, not a fault.
        const name = ckrName(error);
        if (name === 'CKR_RANDOM_SEED_NOT_SUPPORTED' || name === 'CKR_RANDOM_NO_RNG') return false;
        throw toHsmError('C_SeedRandom', error);
      }
    });
  }

  digest(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
    return this.crypto.digest(hash, data);
  }

  encrypt(key: KeyRef, spec: CipherSpec, data: Uint8Array): Promise<CipherResult> {
    return this.crypto.encrypt(key, spec, data);
  }

  decrypt(key: KeyRef, spec: CipherSpec, data: Uint8Array, tag?: Uint8Array): Promise<Uint8Array> {
    return this.crypto.decrypt(key, spec, data, tag);
  }

  wrap(key: KeyRef, mode: WrapMode, data: Uint8Array): Promise<Uint8Array> {
    return this.crypto.wrap(key, mode, data);
  }

  unwrap(key: KeyRef, mode: WrapMode, wrapped: Uint8Array): Promise<Uint8Array> {
    return this.crypto.unwrap(key, mode, wrapped);
  }

  ecdh(privateKey: KeyRef, peerSpki: Uint8Array): Promise<Uint8Array> {
    return this.crypto.ecdh(privateKey, peerSpki);
  }

  pbkdf2(
    password: KeyRef,
    hash: HashName,
    salt: Uint8Array,
    iterations: number,
    length: number,
  ): Promise<Uint8Array> {
    return this.crypto.pbkdf2(password, hash, salt, iterations, length);
  }

  sign(key: KeyRef, spec: SignatureSpec, data: Uint8Array): Promise<Uint8Array> {
    return this.crypto.sign(key, spec, data);
  }

  verify(key: KeyRef, spec: SignatureSpec, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.crypto.verify(key, spec, data, signature);
  }

  mac(key: KeyRef, spec: MacSpec, data: Uint8Array): Promise<Uint8Array> {
    return this.crypto.mac(key, spec, data);
  }

  macVerify(key: KeyRef, spec: MacSpec, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    return this.crypto.macVerify(key, spec, data, mac);
  }

  forgetKey(id: string): void {
    this.crypto.forget(id);
  }

  beginStream(key: KeyRef | undefined, operation: StreamOperation): Promise<string> {
    return this.crypto.beginStream(key, operation);
  }

  updateStream(id: string, data: Uint8Array): Promise<Uint8Array> {
    return this.crypto.updateStream(id, data);
  }

  finishStream(
    id: string,
    data: Uint8Array,
    last: { readonly tag?: Uint8Array; readonly signature?: Uint8Array },
  ): Promise<StreamResult> {
    return this.crypto.finishStream(id, data, last);
  }

  abortStream(id: string): void {
    this.crypto.abortStream(id);
  }

  async close(): Promise<void> {
    this.crypto.clear();
    await this.pool.close();
    // Token-thread calls may still be in flight (stream aborts nobody awaits): a thread answers in order, so its
    // close() waits for them.
    for (const thread of this.threads) await thread.close();
    for (const thread of this.keyPairThreads) await thread.close();
    this.keyPairThreads.clear();
    this.idleKeyPairThreads.length = 0;
    // Closing the sessions destroyed every session object, the cached KEKs with them.
    this.keks.clear();
  }

  /**
   * Runs `fn` with the KEK unwrapped into a session object, from the cache when it is there. Entries are counted
   * while in use, so an eviction or a retirement destroys the object only once no call holds it. Any session of
   * the application may use a session object (a session object belongs to the application,
   * PKCS#11 v2.40 Usage Guide), so one unwrap serves the whole pool.
   */
  private withKek<T>(session: Handle, kek: SealedKek, fn: (handle: Handle) => Promise<T>): Promise<T> {
    let key = kekKeys.get(kek);
    if (key === undefined) {
      // The key starts with the master's label, so that retireMaster() finds the KEKs it wrapped.
      key = `${kek.masterLabel}\n${kek.id}\n${Buffer.from(kek.blob).toString('base64')}`;
      kekKeys.set(kek, key);
    }
    return this.keks.use(
      key,
      () => {
        const master = this.masterHandle(kek.masterLabel);
        const wrapped = asBuffer(decodeKekBlob(kek.blob));
        // Not extractable: a cached KEK can seal and unseal secrets, never be wrapped out again.
        return callAsync(
          'C_UnwrapKey KEK',
          () => this.pkcs11.C_UnwrapKeyAsync(session, KWP, master, wrapped, cachedKek(this.gcm)),
          { unwrap: 'bad-key' },
        );
      },
      fn,
    );
  }

  /**
   * Destroys a held object no call uses any more, on a pool session, without waiting: a failure leaves only a
   * session object that goes with its session.
   */
  private destroyLater(object: Handle): void {
    this.pool
      .use((session) => {
        this.destroy(session, object);
      })
      .catch(() => undefined);
  }

  private async dsaDomain(session: Handle, bits: number): Promise<DsaDomain> {
    // CKM_DSA_PARAMETER_GEN (PKCS#11 v2.40 curr. mech., DSA) makes a domain parameters object; the prime sizes
    // follow FIPS 186-4 (SoftHSM2 picks N from L).
    const params = await callAsync('C_GenerateKey DSA parameters', () =>
      this.pkcs11.C_GenerateKeyAsync(session, { mechanism: ck.CKM_DSA_PARAMETER_GEN }, [
        { type: ck.CKA_CLASS, value: ck.CKO_DOMAIN_PARAMETERS },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_DSA },
        { type: ck.CKA_TOKEN, value: false },
        { type: ck.CKA_PRIME_BITS, value: bits },
      ]),
    );
    try {
      const [p, q, g] = this.attributes(session, params, [ck.CKA_PRIME, ck.CKA_SUBPRIME, ck.CKA_BASE]);
      return { p, q, g };
    } finally {
      this.destroy(session, params);
    }
  }

  /** The public key as DER SubjectPublicKeyInfo, parsed and re-exported by node:crypto so that it is known good. */
  private publicKeySpki(
    session: Handle,
    publicKey: Handle,
    spec: CheckedKeyPairSpec,
    domain: DsaDomain | undefined,
  ): Uint8Array {
    const spki = (jwk: JsonWebKey): Uint8Array =>
      createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'der' });
    switch (spec.algorithm) {
      case 'RSA': {
        const [n, e] = this.attributes(session, publicKey, [ck.CKA_MODULUS, ck.CKA_PUBLIC_EXPONENT]);
        return spki({ kty: 'RSA', n: base64urlUInt(n), e: base64urlUInt(e) });
      }
      case 'EC': {
        const { fieldBytes } = curves[spec.curve];
        const [attribute] = this.attributes(session, publicKey, [ck.CKA_EC_POINT]);
        const point = ecPointFromAttribute(attribute, fieldBytes);
        return spki({
          kty: 'EC',
          crv: spec.curve,
          // Full-length coordinates, leading zeros kept (RFC 7518 §6.2.1.2).
          x: Buffer.from(point.subarray(1, 1 + fieldBytes)).toString('base64url'),
          y: Buffer.from(point.subarray(1 + fieldBytes)).toString('base64url'),
        });
      }
      case 'DSA': {
        if (domain === undefined) throw new HsmError('token-error', 'DSA key without domain parameters');
        const [y] = this.attributes(session, publicKey, [ck.CKA_VALUE]);
        const der = Buffer.from(dsaSpki(domain.p, domain.q, domain.g, y));
        return createPublicKey({ key: der, format: 'der', type: 'spki' }).export({
          type: 'spki',
          format: 'der',
        });
      }
    }
  }

  /** Reads public attributes; a missing one is a token fault. */
  private attributes<const N extends readonly number[]>(
    session: Handle,
    object: Handle,
    types: N,
  ): { [K in keyof N]: Buffer } {
    const results = call('C_GetAttributeValue', () =>
      this.pkcs11.C_GetAttributeValue(
        session,
        object,
        types.map((type) => ({ type })),
      ),
    );
    return types.map((type) => {
      const value = results.find((result) => result.type === type)?.value;
      if (value === undefined)
        throw new HsmError('token-error', `C_GetAttributeValue gave no attribute ${String(type)}`);
      return value;
    }) as { [K in keyof N]: Buffer };
  }

  private findMasters(session: Handle): Map<string, Handle> {
    const found = new Map<string, Handle>();
    call('C_FindObjectsInit', () => {
      this.pkcs11.C_FindObjectsInit(session, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_TOKEN, value: true },
      ]);
    });
    const handles: Handle[] = [];
    try {
      for (;;) {
        const batch = call('C_FindObjects', () => this.pkcs11.C_FindObjects(session, 64));
        if (batch.length === 0) break;
        handles.push(...batch);
      }
    } finally {
      call('C_FindObjectsFinal', () => {
        this.pkcs11.C_FindObjectsFinal(session);
      });
    }
    for (const handle of handles) {
      const [labelBytes] = this.attributes(session, handle, [ck.CKA_LABEL]);
      const label = labelBytes.toString('utf8');
      if (!this.isMasterLabel(label)) continue;
      if (found.has(label)) throw new HsmError('token-error', `two master keys are labelled ${label}`);
      found.set(label, handle);
    }
    return found;
  }

  private async createMaster(session: Handle, label: string): Promise<void> {
    const handle = await callAsync('C_GenerateKey master', () =>
      this.pkcs11.C_GenerateKeyAsync(session, { mechanism: ck.CKM_AES_KEY_GEN }, [
        { type: ck.CKA_CLASS, value: ck.CKO_SECRET_KEY },
        { type: ck.CKA_KEY_TYPE, value: ck.CKK_AES },
        { type: ck.CKA_VALUE_LEN, value: MASTER_BYTES },
        { type: ck.CKA_TOKEN, value: true },
        { type: ck.CKA_PRIVATE, value: true },
        { type: ck.CKA_SENSITIVE, value: true },
        { type: ck.CKA_EXTRACTABLE, value: false },
        { type: ck.CKA_MODIFIABLE, value: false },
        { type: ck.CKA_LABEL, value: label },
        ...wrapOnly,
      ]),
    );
    this.masters.set(label, handle);
  }

  private isMasterLabel(label: string): boolean {
    return label.startsWith(this.prefix) && /^[1-9][0-9]*$/.test(label.slice(this.prefix.length));
  }

  private masterNumber(label: string): number {
    return Number(label.slice(this.prefix.length));
  }

  private latestMaster(): string {
    let latest: string | undefined;
    for (const label of this.masters.keys()) {
      if (latest === undefined || this.masterNumber(label) > this.masterNumber(latest)) latest = label;
    }
    if (latest === undefined) throw new HsmError('not-initialised', 'the token holds no master key');
    return latest;
  }

  private masterHandle(label: string): Handle {
    const handle = this.masters.get(label);
    if (handle === undefined)
      throw new HsmError('bad-key', `master key ${label} is not in the token (retired?)`);
    return handle;
  }

  private requireMechanism(mechanism: number, name: string): void {
    if (!this.mechanisms.has(mechanism)) throw new HsmError('unsupported', `the token lacks ${name}`);
  }

  /** Best effort: a session object that cannot be destroyed now still disappears when its session closes. */
  private destroy(session: Handle, object: Handle): void {
    try {
      this.pkcs11.C_DestroyObject(session, object);
    } catch {
      // See above; the call's own result matters more than this clean-up.
    }
  }
}

interface DsaDomain {
  readonly p: Buffer;
  readonly q: Buffer;
  readonly g: Buffer;
}

function publicKeyAttributes(spec: CheckedKeyPairSpec, domain: DsaDomain | undefined): Template {
  switch (spec.algorithm) {
    case 'RSA':
      return [
        { type: ck.CKA_MODULUS_BITS, value: spec.bits },
        { type: ck.CKA_PUBLIC_EXPONENT, value: bigintToBytes(spec.publicExponent) },
      ];
    case 'EC':
      return [{ type: ck.CKA_EC_PARAMS, value: Buffer.from(curves[spec.curve].oid) }];
    case 'DSA':
      if (domain === undefined) throw new HsmError('token-error', 'DSA key pair without domain parameters');
      return [
        { type: ck.CKA_PRIME, value: domain.p },
        { type: ck.CKA_SUBPRIME, value: domain.q },
        { type: ck.CKA_BASE, value: domain.g },
      ];
  }
}

/** JWK wants unsigned big-endian integers without leading zero bytes (RFC 7518 §6.3.1, §2 Base64urlUInt). */
function base64urlUInt(bytes: Uint8Array): string {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  return Buffer.from(bytes.subarray(start)).toString('base64url');
}

/**
 * withKek()'s cache key of each SealedKek record, made once: callers keep one record per owner (KeyService), and
 * the base64 of its blob was a visible part of every Get.
 */
const kekKeys = new WeakMap<SealedKek, string>();

/** A handle as a small array of its own, to cross to the token thread (a Buffer may view a larger pool). */
function handleBytes(handle: Handle): Uint8Array {
  return Uint8Array.from(handle);
}

/** A mechanism built for the token thread (token-thread.ts), for a pkcs11js call on this thread: Buffers, not bytes. */
function mechanismHere(m: ThreadMechanism): Mechanism {
  const parameter = m.parameter;
  if (parameter === undefined) return { mechanism: m.mechanism };
  if (parameter instanceof Uint8Array) return { mechanism: m.mechanism, parameter: asBuffer(parameter) };
  const fields: Record<string, number | Buffer | undefined> = {};
  for (const [name, value] of Object.entries(parameter)) {
    fields[name] = value instanceof Uint8Array ? asBuffer(value) : value;
  }
  return { mechanism: m.mechanism, parameter: { ...fields, type: parameter.type } };
}

/** pkcs11js takes Buffers; this views a Uint8Array's memory without copying it. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
