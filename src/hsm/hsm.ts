/**
 * The key hierarchy behind the PKCS#11 token (DESIGN.md "Keys behind the token"):
 *
 *   master key (AES-256, in the token, non-extractable, wrap/unwrap only)
 *     └─ one key-encryption key (KEK) per owner, generated in the token, stored outside it wrapped by the master key
 *          └─ every managed secret, stored outside the token only sealed under its owner's KEK by the token
 *
 * Nothing above this interface ever sees a master key or a KEK in clear, and sees secret plaintext only where the
 * protocol needs it (a client registers or gets key bytes). Values returned here are opaque records to be stored
 * as they are; only src/hsm reads their insides.
 */

/** A KEK wrapped by a master key. `masterLabel` names the master key that wrapped it (rotation moves it on). */
export interface SealedKek {
  readonly id: string;
  readonly masterLabel: string;
  readonly blob: Uint8Array;
}

/** A secret sealed under a KEK by the token. `kekId` names the KEK; `format` says what the plaintext is. */
export interface SealedSecret {
  readonly kekId: string;
  /** What unseal() gives back: raw key bytes, a PKCS#8 PrivateKeyInfo, or opaque bytes as registered. */
  readonly format: 'raw' | 'pkcs8' | 'opaque';
  readonly blob: Uint8Array;
}

export type SecretKeyAlgorithm =
  'AES' | 'DES' | 'DES3' | 'HMAC-SHA1' | 'HMAC-SHA224' | 'HMAC-SHA256' | 'HMAC-SHA384' | 'HMAC-SHA512';

export type KeyPairSpec =
  | { readonly algorithm: 'RSA'; readonly bits: number; readonly publicExponent?: bigint }
  | { readonly algorithm: 'EC'; readonly curve: 'P-256' | 'P-384' | 'P-521' }
  | { readonly algorithm: 'DSA'; readonly bits: number };

export interface GeneratedKeyPair {
  /** DER SubjectPublicKeyInfo; public keys may live in clear. */
  readonly publicKeySpki: Uint8Array;
  /** The private key, sealed; unseal() gives its PKCS#8 PrivateKeyInfo. */
  readonly privateKey: SealedSecret;
}

/**
 * Why a token call failed; `code` is stable for callers and tests, `detail` is for the log only (it names the
 * PKCS#11 call and its CKR_* value, never a PIN or key bytes):
 * - not-initialised: no usable module or token, a closed Hsm, or a second SoftHSM2 data directory in one process;
 * - login-failed: wrong, missing or locked PIN;
 * - unsupported: an algorithm, size or mechanism the token does not offer, or a request over a size limit;
 * - bad-key: a SealedKek that cannot be used (foreign or altered blob, master key unknown or retired), or a
 *   master key operation that is not allowed (retiring the current master);
 * - unseal-failed: a SealedSecret that does not open under the KEK given (another KEK, altered or foreign blob);
 * - token-error: anything else the token reported.
 */
export type HsmErrorCode =
  'not-initialised' | 'login-failed' | 'unsupported' | 'bad-key' | 'unseal-failed' | 'token-error';

export class HsmError extends Error {
  override readonly name = 'HsmError';
  constructor(
    readonly code: HsmErrorCode,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${detail}`, options);
  }
}

export interface Hsm {
  /** Generates a new owner KEK inside the token and returns it wrapped by the current master key. */
  createKek(): Promise<SealedKek>;
  /** The current master key's label; KEKs wrapped by an older one need rewrapKek(). */
  currentMasterLabel(): string;
  /** Makes a new master key current; the previous ones stay usable for unwrapping until retired. */
  rotateMaster(): Promise<string>;
  /** Rewraps a KEK under the current master key, inside the token; a KEK already under it comes back as it is. */
  rewrapKek(kek: SealedKek): Promise<SealedKek>;
  /**
   * Destroys a master key that no KEK uses any more; KEKs still wrapped by it fail with 'bad-key' from then on.
   * The current master cannot be retired ('bad-key').
   */
  retireMaster(label: string): Promise<void>;

  /** Generates a secret key inside the token and returns it sealed (its plaintext never leaves the token). */
  generateSecretKey(kek: SealedKek, algorithm: SecretKeyAlgorithm, bits: number): Promise<SealedSecret>;
  /** Generates a key pair inside the token, without stalling other calls (RSA generation takes seconds). */
  generateKeyPair(kek: SealedKek, spec: KeyPairSpec): Promise<GeneratedKeyPair>;
  /** Seals client-supplied bytes under the KEK. The caller zeroes its own copy afterwards. */
  seal(kek: SealedKek, plaintext: Uint8Array, format: SealedSecret['format']): Promise<SealedSecret>;
  /** The plaintext of a sealed secret, for Get. The caller zeroes it after use and never logs it. */
  unseal(kek: SealedKek, sealed: SealedSecret): Promise<Uint8Array>;
  /** Random bytes from the token's generator. */
  random(length: number): Promise<Uint8Array>;

  close(): Promise<void>;
}
