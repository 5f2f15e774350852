import type { Hsm, SealedKek, SealedSecret } from '../hsm/hsm.js';
import { KeyedLock } from '../store/keyed-lock.js';
import type { ObjectStore } from '../store/store.js';
import { StreamTable } from './crypto/streams.js';

/**
 * Owner key-encryption keys: made in the token on an owner's first secret, stored wrapped by the master key, cached
 * here as wrapped records only (the token keeps any unwrapped handle). Two requests that race to make an owner's
 * first KEK both end with the one that was stored first.
 */
export class KeyService {
  private readonly keks = new Map<string, Promise<SealedKek>>();
  /** The multi-part cryptographic operations open on the token, by Correlation Value. */
  readonly streams = new StreamTable();
  /** Usage Limits allocations on one object take turns (usage-limits.ts allocateUsage). */
  readonly usageLocks = new KeyedLock();

  constructor(
    readonly hsm: Hsm,
    private readonly store: ObjectStore,
  ) {}

  kekFor(owner: string): Promise<SealedKek> {
    let kek = this.keks.get(owner);
    if (!kek) {
      kek = this.loadOrCreate(owner);
      this.keks.set(owner, kek);
      kek.catch(() => this.keks.delete(owner));
    }
    return kek;
  }

  /** Drops cached KEK records (after a master-key rotation rewrote them). */
  forget(): void {
    this.keks.clear();
  }

  private async loadOrCreate(owner: string): Promise<SealedKek> {
    const stored = await this.store.getKek(owner);
    if (stored) return parseKek(stored);
    const kek = await this.hsm.createKek();
    try {
      await this.store.putKek(owner, serializeKek(kek), undefined);
      return kek;
    } catch (error) {
      // Another request stored this owner's first KEK first: use that one.
      const winner = await this.store.getKek(owner);
      if (winner) return parseKek(winner);
      throw error;
    }
  }

  async seal(owner: string, plaintext: Uint8Array, format: SealedSecret['format']): Promise<SealedSecret> {
    return this.hsm.seal(await this.kekFor(owner), plaintext, format);
  }

  async unseal(owner: string, sealed: SealedSecret): Promise<Uint8Array> {
    return this.hsm.unseal(await this.kekFor(owner), sealed);
  }

  /**
   * unseal() for a client that is being served the plaintext, and, where the token reads seal()'s form faster
   * than this one (Hsm.readsFasterResealed: a key generated in the token), the same bytes sealed again for the
   * caller to store in place of the old form. The bytes are in the process at that moment anyway (DESIGN.md: only
   * while a client gets them), and every later read costs the token one C_Decrypt instead of an unwrap.
   */
  async unsealToServe(
    owner: string,
    sealed: SealedSecret,
  ): Promise<{ readonly plain: Uint8Array; readonly resealed: SealedSecret | undefined }> {
    const kek = await this.kekFor(owner);
    const plain = await this.hsm.unseal(kek, sealed);
    if (!this.hsm.readsFasterResealed(sealed)) return { plain, resealed: undefined };
    try {
      return { plain, resealed: await this.hsm.seal(kek, plain, sealed.format) };
    } catch (error) {
      plain.fill(0);
      throw error;
    }
  }
}

interface KekRecord {
  v: 1;
  id: string;
  master: string;
  blob: string;
}

export function serializeKek(kek: SealedKek): Uint8Array {
  const record: KekRecord = {
    v: 1,
    id: kek.id,
    master: kek.masterLabel,
    blob: Buffer.from(kek.blob).toString('base64'),
  };
  return Buffer.from(JSON.stringify(record));
}

export function parseKek(bytes: Uint8Array): SealedKek {
  const record = JSON.parse(Buffer.from(bytes).toString('utf8')) as KekRecord;
  return { id: record.id, masterLabel: record.master, blob: Buffer.from(record.blob, 'base64') };
}
