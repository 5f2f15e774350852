/**
 * The Hsm interface over node:crypto, for tests of the layers above (no token, no native module). It keeps the
 * shape of the real hierarchy: master keys in memory under the same labels, KEKs sealed by a master key, secrets
 * sealed by a KEK; AES-256-GCM stands in for RFC 5649 key wrap.
 *
 * Not for production: the master keys are plain Buffers in this process and vanish with it. Its blobs start with
 * 'F' where the PKCS#11 Hsm's start with 'K', so a fake blob handed to the real Hsm (or the reverse) is refused
 * cleanly as a foreign blob instead of failing somewhere inside the token.
 */
import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHash,
  pbkdf2Sync,
  createHmac,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  diffieHellman,
  generateKeyPair as generateKeyPairCallback,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
  randomUUID,
  sign as nodeSign,
  timingSafeEqual,
  verify as nodeVerify,
  type CipherGCMTypes,
  type KeyObject,
  type RsaPrivateKey,
  type SignKeyObjectInput,
} from 'node:crypto';
import { promisify } from 'node:util';
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
  type SecretKeyType,
  type WrapMode,
} from './hsm.js';
import {
  checkKeyPairSpec,
  checkRandomLength,
  checkSealInput,
  checkPbkdf2,
  checkUnwrapInput,
  checkWrapInput,
  dsaSubprimeBits,
  secretKeyShape,
  setDesParity,
} from './key-specs.js';

const generateKeyPairAsync = promisify(generateKeyPairCallback);

const MAGIC = 0x46; // 'F'
const KIND_KEK = 0x4b; // 'K'
const KIND_SECRET = 0x53; // 'S'
const VERSION = 1;
const HEADER = 4;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;

export interface FakeHsmOptions {
  /** Master key labels are this prefix and a number (default "kmipd-master-"), as in the PKCS#11 Hsm. */
  readonly masterLabelPrefix?: string;
}

export class FakeHsm implements Hsm {
  private readonly masters = new Map<string, Buffer>();
  private readonly prefix: string;
  private serial = 1;
  private current: string;
  private closed = false;
  private readonly streams = new Map<
    string,
    { readonly key: KeyRef | undefined; readonly operation: StreamOperation; readonly parts: Uint8Array[] }
  >();

  constructor(options: FakeHsmOptions = {}) {
    this.prefix = options.masterLabelPrefix ?? 'kmipd-master-';
    this.current = `${this.prefix}1`;
    this.masters.set(this.current, randomBytes(KEY_BYTES));
  }

  currentMasterLabel(): string {
    return this.current;
  }

  async createKek(): Promise<SealedKek> {
    await this.turn();
    const kek = randomBytes(KEY_BYTES);
    try {
      return {
        id: randomUUID(),
        masterLabel: this.current,
        blob: this.sealBlob(this.master(this.current), KIND_KEK, 0, kek),
      };
    } finally {
      kek.fill(0);
    }
  }

  async rotateMaster(): Promise<string> {
    await this.turn();
    this.serial += 1;
    this.current = `${this.prefix}${String(this.serial)}`;
    this.masters.set(this.current, randomBytes(KEY_BYTES));
    return this.current;
  }

  async rewrapKek(kek: SealedKek): Promise<SealedKek> {
    await this.turn();
    if (kek.masterLabel === this.current) return kek;
    return this.withKek(kek, (key) => ({
      id: kek.id,
      masterLabel: this.current,
      blob: this.sealBlob(this.master(this.current), KIND_KEK, 0, key),
    }));
  }

  async retireMaster(label: string): Promise<void> {
    await this.turn();
    if (label === this.current) throw new HsmError('bad-key', `${label} is the current master key`);
    this.master(label).fill(0);
    this.masters.delete(label);
  }

  async generateSecretKey(
    kek: SealedKek,
    algorithm: SecretKeyAlgorithm,
    bits: number,
  ): Promise<GeneratedSecretKey> {
    const shape = secretKeyShape(algorithm, bits);
    const key = randomBytes(shape.bytes);
    if (shape.kind === 'DES' || shape.kind === 'DES2' || shape.kind === 'DES3') setDesParity(key);
    try {
      return { ...(await this.seal(kek, key, 'raw')), sha256: createHash('sha256').update(key).digest() };
    } finally {
      key.fill(0);
    }
  }

  async generateKeyPair(kek: SealedKek, spec: KeyPairSpec): Promise<GeneratedKeyPair> {
    const checked = checkKeyPairSpec(spec);
    await this.turn();
    let pair: { publicKey: KeyObject; privateKey: KeyObject };
    switch (checked.algorithm) {
      case 'RSA':
        if (checked.publicExponent > BigInt(Number.MAX_SAFE_INTEGER)) {
          throw new HsmError('unsupported', 'the fake HSM takes RSA public exponents below 2^53');
        }
        pair = await generateKeyPairAsync('rsa', {
          modulusLength: checked.bits,
          publicExponent: Number(checked.publicExponent),
        });
        break;
      case 'EC':
        pair = await generateKeyPairAsync('ec', { namedCurve: checked.curve });
        break;
      case 'DSA':
        pair = await generateKeyPairAsync('dsa', {
          modulusLength: checked.bits,
          divisorLength: dsaSubprimeBits(checked.bits),
        });
        break;
    }
    const pkcs8 = pair.privateKey.export({ type: 'pkcs8', format: 'der' });
    try {
      return {
        publicKeySpki: pair.publicKey.export({ type: 'spki', format: 'der' }),
        privateKey: await this.seal(kek, pkcs8, 'pkcs8'),
      };
    } finally {
      pkcs8.fill(0);
    }
  }

  async seal(kek: SealedKek, plaintext: Uint8Array, format: SealedSecret['format']): Promise<SealedSecret> {
    checkSealInput(plaintext);
    await this.turn();
    return this.withKek(kek, (key) => ({
      kekId: kek.id,
      format,
      blob: this.sealBlob(key, KIND_SECRET, formatCodes[format], plaintext),
    }));
  }

  async unseal(kek: SealedKek, sealed: SealedSecret): Promise<Uint8Array> {
    await this.turn();
    if (sealed.kekId !== kek.id)
      throw new HsmError('unseal-failed', 'the secret was sealed under another KEK');
    return this.withKek(kek, (key) => {
      const plaintext = this.openBlob(key, KIND_SECRET, sealed.blob, 'unseal-failed');
      try {
        return Uint8Array.from(plaintext);
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** One sealed form for every secret here: nothing reads faster sealed again. */
  readsFasterResealed(): boolean {
    return false;
  }

  async random(length: number): Promise<Uint8Array> {
    checkRandomLength(length);
    await this.turn();
    return Uint8Array.from(randomBytes(length));
  }

  async seedRandom(seed: Uint8Array): Promise<boolean> {
    checkRandomLength(seed.length);
    await this.turn();
    // node:crypto's generator takes no seed from outside; the fake says so as a token without C_SeedRandom would.
    return false;
  }

  async ecdh(ref: KeyRef, peerSpki: Uint8Array): Promise<Uint8Array> {
    return this.withKey(ref, (key) => {
      if (key.type !== 'private' || key.asymmetricKeyType !== 'ec') {
        throw new HsmError('bad-input', 'ECDH needs an EC private key');
      }
      const publicKey = guard(() =>
        createPublicKey({ key: Buffer.from(peerSpki), format: 'der', type: 'spki' }),
      );
      return guard(() => diffieHellman({ privateKey: key, publicKey }));
    });
  }

  async pbkdf2(
    ref: KeyRef,
    hash: HashName,
    salt: Uint8Array,
    iterations: number,
    length: number,
  ): Promise<Uint8Array> {
    checkPbkdf2(iterations, length);
    return this.withKey(ref, (key) => {
      if (key.type !== 'secret') throw new HsmError('bad-input', 'PBKDF2 needs a secret as its password');
      return guard(() => pbkdf2Sync(secretOf(key), salt, iterations, length, hash));
    });
  }

  async digest(hash: HashName, data: Uint8Array): Promise<Uint8Array> {
    await this.turn();
    return createHash(hash).update(data).digest();
  }

  async encrypt(ref: KeyRef, spec: CipherSpec, data: Uint8Array): Promise<CipherResult> {
    return this.withKey(ref, (key) => {
      if (spec.algorithm === 'RSA') {
        return { data: guard(() => publicEncrypt(rsaOptions(asPublic(key), spec), data)) };
      }
      const name = cipherName(key, spec);
      if (spec.mode === 'GCM') {
        const gcm = guard(() =>
          createCipheriv(name as CipherGCMTypes, secretOf(key), spec.iv ?? new Uint8Array(0), {
            authTagLength: spec.tagBytes ?? TAG_BYTES,
          }),
        );
        if (spec.aad) gcm.setAAD(spec.aad);
        const out = Buffer.concat([gcm.update(data), gcm.final()]);
        return { data: out, tag: gcm.getAuthTag() };
      }
      const cipher = guard(() => createCipheriv(name, secretOf(key), ivFor(spec)));
      cipher.setAutoPadding(spec.mode === 'CBC-PAD' || spec.mode === 'ECB-PAD');
      return { data: guard(() => Buffer.concat([cipher.update(data), cipher.final()])) };
    });
  }

  async wrap(ref: KeyRef, mode: WrapMode, data: Uint8Array): Promise<Uint8Array> {
    checkWrapInput(mode, data);
    return this.aesKeyWrap(ref, mode, 'wrap', data);
  }

  async unwrap(ref: KeyRef, mode: WrapMode, wrapped: Uint8Array): Promise<Uint8Array> {
    checkUnwrapInput(mode, wrapped);
    return this.aesKeyWrap(ref, mode, 'unwrap', wrapped);
  }

  /** RFC 3394 (KW) or RFC 5649 (KWP) under an AES key, by OpenSSL's ciphers with their default initial values. */
  private aesKeyWrap(
    ref: KeyRef,
    mode: WrapMode,
    direction: 'wrap' | 'unwrap',
    input: Uint8Array,
  ): Promise<Uint8Array> {
    return this.withKey(ref, (key, secretType) => {
      if (secretType !== 'AES') throw new HsmError('bad-input', `AES key ${direction} needs an AES key`);
      const secret = secretOf(key);
      const name = `id-aes${String(secret.length * 8)}-wrap${mode === 'KWP' ? '-pad' : ''}`;
      const iv = mode === 'KW' ? Buffer.from('a6a6a6a6a6a6a6a6', 'hex') : Buffer.from('a65959a6', 'hex');
      const cipher = guard(() =>
        direction === 'wrap' ? createCipheriv(name, secret, iv) : createDecipheriv(name, secret, iv),
      );
      return guard(() => Buffer.concat([cipher.update(input), cipher.final()]));
    });
  }

  async decrypt(ref: KeyRef, spec: CipherSpec, data: Uint8Array, tag?: Uint8Array): Promise<Uint8Array> {
    return this.withKey(ref, (key) => {
      if (spec.algorithm === 'RSA') {
        if (key.type !== 'private') throw new HsmError('bad-input', 'RSA decryption needs a private key');
        // OpenSSL 3 in Node 20 refuses PKCS#1 v1.5 private decryption (CVE-2023-46809); the token does it.
        if (spec.padding === 'PKCS1')
          throw new HsmError('unsupported', 'the fake HSM has no PKCS#1 v1.5 decryption');
        return guard(() => privateDecrypt(rsaOptions(key, spec), data));
      }
      const name = cipherName(key, spec);
      if (spec.mode === 'GCM') {
        if (tag === undefined) throw new HsmError('bad-input', 'GCM decryption needs the authentication tag');
        const gcm = guard(() =>
          createDecipheriv(name as CipherGCMTypes, secretOf(key), spec.iv ?? new Uint8Array(0), {
            authTagLength: spec.tagBytes ?? TAG_BYTES,
          }),
        );
        gcm.setAuthTag(tag);
        if (spec.aad) gcm.setAAD(spec.aad);
        return guard(() => Buffer.concat([gcm.update(data), gcm.final()]));
      }
      const decipher = guard(() => createDecipheriv(name, secretOf(key), ivFor(spec)));
      decipher.setAutoPadding(spec.mode === 'CBC-PAD' || spec.mode === 'ECB-PAD');
      return guard(() => Buffer.concat([decipher.update(data), decipher.final()]));
    });
  }

  async sign(ref: KeyRef, spec: SignatureSpec, data: Uint8Array): Promise<Uint8Array> {
    return this.withKey(ref, (key) => {
      if (key.type !== 'private') throw new HsmError('bad-input', 'signing needs a private key');
      return guard(() => nodeSign(signatureHash(spec), data, signatureOptions(key, spec)));
    });
  }

  async verify(ref: KeyRef, spec: SignatureSpec, data: Uint8Array, signature: Uint8Array): Promise<boolean> {
    return this.withKey(ref, (key) => {
      try {
        return nodeVerify(signatureHash(spec), data, signatureOptions(asPublic(key), spec), signature);
      } catch {
        return false;
      }
    });
  }

  async mac(ref: KeyRef, spec: MacSpec, data: Uint8Array): Promise<Uint8Array> {
    return this.withKey(ref, (key) => {
      if (spec.algorithm !== 'HMAC') throw new HsmError('unsupported', 'the fake HSM has no CMAC');
      return createHmac(spec.hash, secretOf(key)).update(data).digest();
    });
  }

  async macVerify(ref: KeyRef, spec: MacSpec, data: Uint8Array, mac: Uint8Array): Promise<boolean> {
    const expected = await this.mac(ref, spec, data);
    return expected.length === mac.length && timingSafeEqual(expected, mac);
  }

  forgetKey(): void {
    // The fake holds no keys between calls.
  }

  /**
   * The fake gathers the parts and runs the single-part call at the end: every part answers no output and the
   * last answers all of it, which a client joining the outputs cannot tell from the token's streaming.
   */
  beginStream(key: KeyRef | undefined, operation: StreamOperation): Promise<string> {
    const id = randomUUID();
    this.streams.set(id, { key, operation, parts: [] });
    return Promise.resolve(id);
  }

  updateStream(id: string, data: Uint8Array): Promise<Uint8Array> {
    const stream = this.streams.get(id);
    if (stream === undefined)
      return Promise.reject(new HsmError('bad-input', 'no such multi-part operation'));
    stream.parts.push(Uint8Array.from(data));
    return Promise.resolve(new Uint8Array(0));
  }

  async finishStream(
    id: string,
    data: Uint8Array,
    last: { readonly tag?: Uint8Array; readonly signature?: Uint8Array },
  ): Promise<StreamResult> {
    const stream = this.streams.get(id);
    if (stream === undefined) throw new HsmError('bad-input', 'no such multi-part operation');
    this.streams.delete(id);
    const whole = Buffer.concat([...stream.parts, data]);
    const { key, operation } = stream;
    if (operation.kind === 'digest') return { data: await this.digest(operation.hash, whole) };
    if (key === undefined) throw new HsmError('bad-input', 'this multi-part operation needs a key');
    switch (operation.kind) {
      case 'encrypt':
        return this.encrypt(key, operation.spec, whole);
      case 'decrypt':
        return { data: await this.decrypt(key, operation.spec, whole, last.tag) };
      case 'sign':
        return { data: await this.sign(key, operation.spec, whole) };
      case 'verify':
        return {
          data: new Uint8Array(0),
          valid: await this.verify(key, operation.spec, whole, last.signature ?? new Uint8Array(0)),
        };
      case 'mac':
        return { data: await this.mac(key, operation.spec, whole) };
      case 'mac-verify':
        return {
          data: new Uint8Array(0),
          valid: await this.macVerify(key, operation.spec, whole, last.signature ?? new Uint8Array(0)),
        };
    }
  }

  abortStream(id: string): void {
    this.streams.delete(id);
  }

  /**
   * Runs fn with the key as a node:crypto KeyObject, made from its source at every call, and, for a secret key, its
   * type (a KeyObject knows only a secret key's length).
   */
  private async withKey<T>(
    ref: KeyRef,
    fn: (key: KeyObject, secretType: SecretKeyType | undefined) => T,
  ): Promise<T> {
    const source = await ref.source();
    await this.turn();
    let bytes: Uint8Array;
    switch (source.kind) {
      case 'public-spki':
        return fn(
          createPublicKey({ key: Buffer.from(source.bytes), format: 'der', type: 'spki' }),
          undefined,
        );
      case 'secret-bytes':
      case 'private-pkcs8':
        bytes = source.bytes;
        break;
      case 'sealed-secret':
      case 'sealed-private':
        bytes = await this.unseal(source.kek, source.sealed);
        break;
    }
    const secret = source.kind === 'secret-bytes' || source.kind === 'sealed-secret';
    const key = secret
      ? createSecretKey(Buffer.from(bytes))
      : createPrivateKey({ key: Buffer.from(bytes), format: 'der', type: 'pkcs8' });
    bytes.fill(0);
    return fn(key, secret ? source.keyType : undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    for (const key of this.masters.values()) key.fill(0);
    this.masters.clear();
    return Promise.resolve();
  }

  /**
   * Answers in a later turn of the event loop, as a token call on a worker thread does (so that callers which
   * start many calls at once see them interleave, not run as one long microtask chain), and refuses calls after
   * close().
   */
  private async turn(): Promise<void> {
    await new Promise<void>((resolve) => {
      setImmediate(resolve);
    });
    if (this.closed) throw new HsmError('not-initialised', 'the HSM is closed');
  }

  private master(label: string): Buffer {
    const key = this.masters.get(label);
    if (key === undefined)
      throw new HsmError('bad-key', `master key ${label} is not in the fake HSM (retired?)`);
    return key;
  }

  /** Runs `fn` with the KEK in clear (this is the fake), zeroed afterwards. */
  private withKek<T>(kek: SealedKek, fn: (key: Buffer) => T): T {
    const key = this.openBlob(this.master(kek.masterLabel), KIND_KEK, kek.blob, 'bad-key');
    try {
      return fn(key);
    } finally {
      key.fill(0);
    }
  }

  /** 'F' kind version detail | iv | tag | AES-256-GCM ciphertext, with the header as additional data. */
  private sealBlob(key: Buffer, kind: number, detail: number, plaintext: Uint8Array): Uint8Array {
    const header = Uint8Array.of(MAGIC, kind, VERSION, detail);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  private openBlob(key: Buffer, kind: number, blob: Uint8Array, code: 'bad-key' | 'unseal-failed'): Buffer {
    if (
      blob.length < HEADER + IV_BYTES + TAG_BYTES ||
      blob[0] !== MAGIC ||
      blob[1] !== kind ||
      blob[2] !== VERSION
    ) {
      throw new HsmError(code, 'blob was not made by the fake HSM');
    }
    const iv = blob.subarray(HEADER, HEADER + IV_BYTES);
    const tag = blob.subarray(HEADER + IV_BYTES, HEADER + IV_BYTES + TAG_BYTES);
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv)
        .setAAD(blob.subarray(0, HEADER))
        .setAuthTag(tag);
      return Buffer.concat([decipher.update(blob.subarray(HEADER + IV_BYTES + TAG_BYTES)), decipher.final()]);
    } catch (error) {
      throw new HsmError(code, 'AES-GCM authentication failed', { cause: error });
    }
  }
}

/** Node's name for a block cipher, from the key's length (DES2 is two-key 3DES, des-ede). */
function cipherName(key: KeyObject, spec: CipherSpec & { algorithm: 'AES' | 'DES3' | 'DES' }): string {
  const bytes = key.symmetricKeySize ?? 0;
  const mode = spec.mode === 'CBC-PAD' ? 'cbc' : spec.mode === 'ECB-PAD' ? 'ecb' : spec.mode.toLowerCase();
  if (spec.algorithm === 'AES') return `aes-${String(bytes * 8)}-${mode}`;
  if (spec.mode === 'GCM') throw new HsmError('unsupported', `${spec.algorithm} has no GCM mode`);
  if (spec.algorithm === 'DES') return `des-${mode}`;
  const base = bytes === 16 ? 'des-ede' : 'des-ede3';
  return mode === 'ecb' ? base : `${base}-cbc`;
}

function ivFor(spec: CipherSpec): Uint8Array | null {
  return spec.algorithm !== 'RSA' && spec.mode !== 'ECB' && spec.mode !== 'ECB-PAD'
    ? (spec.iv ?? new Uint8Array(0))
    : null;
}

function secretOf(key: KeyObject): Buffer {
  if (key.type !== 'secret') throw new HsmError('bad-input', 'this call needs a secret key');
  return key.export();
}

function asPublic(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}

function rsaOptions(key: KeyObject, spec: CipherSpec & { algorithm: 'RSA' }): RsaPrivateKey {
  if (spec.padding === 'PKCS1') return { key, padding: constants.RSA_PKCS1_PADDING };
  if (spec.mgfHash !== undefined && spec.mgfHash !== (spec.hash ?? 'SHA-1')) {
    throw new HsmError('unsupported', 'the fake HSM uses the OAEP hash for MGF1');
  }
  return {
    key,
    padding: constants.RSA_PKCS1_OAEP_PADDING,
    oaepHash: spec.hash ?? 'SHA-1',
    ...(spec.label ? { oaepLabel: spec.label } : {}),
  };
}

function signatureHash(spec: SignatureSpec): string | null {
  if (spec.prehashed) throw new HsmError('unsupported', 'the fake HSM signs only messages, not digests');
  if (spec.hash === undefined) throw new HsmError('unsupported', 'the fake HSM signs only with a hash');
  return spec.hash;
}

function signatureOptions(key: KeyObject, spec: SignatureSpec): SignKeyObjectInput {
  if (spec.algorithm !== 'RSA') return { key, dsaEncoding: 'der' };
  if (spec.padding === 'PSS' && spec.mgfHash !== undefined && spec.mgfHash !== spec.hash) {
    throw new HsmError('unsupported', 'the fake HSM uses the signature hash for MGF1');
  }
  return spec.padding === 'PSS'
    ? {
        key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: spec.saltBytes ?? constants.RSA_PSS_SALTLEN_DIGEST,
      }
    : { key, padding: constants.RSA_PKCS1_PADDING };
}

/** node:crypto's refusals of the data (bad padding, a failed tag, wrong lengths) as the token reports them. */
function guard<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof HsmError) throw error;
    throw new HsmError('bad-input', error instanceof Error ? error.message : 'refused', { cause: error });
  }
}

const formatCodes: Readonly<Record<SealedSecret['format'], number>> = { raw: 1, pkcs8: 2, opaque: 3 };
