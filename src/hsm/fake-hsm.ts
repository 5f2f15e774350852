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
  createCipheriv,
  createDecipheriv,
  generateKeyPair as generateKeyPairCallback,
  randomBytes,
  randomUUID,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import {
  HsmError,
  type GeneratedKeyPair,
  type Hsm,
  type KeyPairSpec,
  type SealedKek,
  type SealedSecret,
  type SecretKeyAlgorithm,
} from './hsm.js';
import {
  checkKeyPairSpec,
  checkRandomLength,
  checkSealInput,
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
        blob: this.encrypt(this.master(this.current), KIND_KEK, 0, kek),
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
      blob: this.encrypt(this.master(this.current), KIND_KEK, 0, key),
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
  ): Promise<SealedSecret> {
    const shape = secretKeyShape(algorithm, bits);
    const key = randomBytes(shape.bytes);
    if (shape.kind === 'DES' || shape.kind === 'DES2' || shape.kind === 'DES3') setDesParity(key);
    try {
      return await this.seal(kek, key, 'raw');
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
      blob: this.encrypt(key, KIND_SECRET, formatCodes[format], plaintext),
    }));
  }

  async unseal(kek: SealedKek, sealed: SealedSecret): Promise<Uint8Array> {
    await this.turn();
    if (sealed.kekId !== kek.id)
      throw new HsmError('unseal-failed', 'the secret was sealed under another KEK');
    return this.withKek(kek, (key) => {
      const plaintext = this.decrypt(key, KIND_SECRET, sealed.blob, 'unseal-failed');
      try {
        return Uint8Array.from(plaintext);
      } finally {
        plaintext.fill(0);
      }
    });
  }

  async random(length: number): Promise<Uint8Array> {
    checkRandomLength(length);
    await this.turn();
    return Uint8Array.from(randomBytes(length));
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
    const key = this.decrypt(this.master(kek.masterLabel), KIND_KEK, kek.blob, 'bad-key');
    try {
      return fn(key);
    } finally {
      key.fill(0);
    }
  }

  /** 'F' kind version detail | iv | tag | AES-256-GCM ciphertext, with the header as additional data. */
  private encrypt(key: Buffer, kind: number, detail: number, plaintext: Uint8Array): Uint8Array {
    const header = Uint8Array.of(MAGIC, kind, VERSION, detail);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(header);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext]);
  }

  private decrypt(key: Buffer, kind: number, blob: Uint8Array, code: 'bad-key' | 'unseal-failed'): Buffer {
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

const formatCodes: Readonly<Record<SealedSecret['format'], number>> = { raw: 1, pkcs8: 2, opaque: 3 };
