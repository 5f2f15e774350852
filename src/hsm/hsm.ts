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

/** A secret key the token generated, sealed, with the SHA-256 of its value computed by the token (C_DigestKey). */
export interface GeneratedSecretKey extends SealedSecret {
  readonly sha256: Uint8Array;
}

export type SecretKeyAlgorithm =
  | 'AES'
  | 'DES'
  | 'DES3'
  | 'HMAC-SHA1'
  | 'HMAC-SHA224'
  | 'HMAC-SHA256'
  | 'HMAC-SHA384'
  | 'HMAC-SHA512'
  | 'SKIPJACK';

/** The curves keys are generated on: the NIST prime curves, and SEC 2 secp256k1 (TC-DERIVEKEY-6 uses it for ECDH). */
export type CurveName = 'P-256' | 'P-384' | 'P-521' | 'secp256k1';

export type KeyPairSpec =
  | { readonly algorithm: 'RSA'; readonly bits: number; readonly publicExponent?: bigint }
  | { readonly algorithm: 'EC'; readonly curve: CurveName }
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
 * - bad-input: data a cryptographic call refuses (a length that is not a multiple of the block, bad padding, a
 *   failed authentication tag on decryption, a key of the wrong kind for the mechanism);
 * - token-error: anything else the token reported.
 */
export type HsmErrorCode =
  | 'not-initialised'
  | 'login-failed'
  | 'unsupported'
  | 'bad-key'
  | 'unseal-failed'
  | 'bad-input'
  | 'token-error';

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

export type HashName = 'SHA-1' | 'SHA-224' | 'SHA-256' | 'SHA-384' | 'SHA-512';

/** The kinds of secret key object the token makes for cryptographic use. */
export type SecretKeyType = 'AES' | 'DES' | 'DES3' | 'GENERIC';

/**
 * Where the token gets a key for a cryptographic call, asked for only when the key is not already held as a
 * session object (see KeyRef):
 * - sealed-secret / sealed-private: a key generated in the token (generateSecretKey, generateKeyPair), unwrapped by
 *   the token from its sealed form without its bytes entering the process where the layout allows it;
 * - secret-bytes / private-pkcs8: key bytes the caller has in clear (a registered key it has just unsealed); the
 *   Hsm zeroes them once the token has them;
 * - public-spki: a public key (DER SubjectPublicKeyInfo), public data.
 */
export type KeySource =
  | {
      readonly kind: 'sealed-secret';
      readonly kek: SealedKek;
      readonly sealed: SealedSecret;
      readonly keyType: SecretKeyType;
    }
  | {
      readonly kind: 'sealed-private';
      readonly kek: SealedKek;
      readonly sealed: SealedSecret;
      readonly keyType: 'RSA' | 'EC' | 'DSA';
    }
  | { readonly kind: 'secret-bytes'; readonly keyType: SecretKeyType; readonly bytes: Uint8Array }
  | { readonly kind: 'private-pkcs8'; readonly bytes: Uint8Array }
  | { readonly kind: 'public-spki'; readonly bytes: Uint8Array };

/**
 * A key for a cryptographic call. The Hsm keeps recently used keys as session objects in the token under `id`
 * (hot keys as handles, never as bytes, DESIGN.md), and calls `source` only on a miss. `id` must change whenever
 * the key material does; forgetKey(id) drops the object (Destroy).
 */
export interface KeyRef {
  readonly id: string;
  readonly source: () => Promise<KeySource>;
}

/**
 * A cipher as the token runs it. Block modes: ECB and CBC without padding need whole blocks; CBC-PAD and ECB-PAD
 * are PKCS#7 padding (KMIP's PKCS5); GCM takes a 1-16 byte tag length and optional additional data. RSA: PKCS#1 v1.5 or OAEP
 * with MGF1 (RFC 8017 §7.1), with an optional label.
 */
export type CipherSpec =
  | {
      readonly algorithm: 'AES' | 'DES3' | 'DES';
      readonly mode: 'ECB' | 'ECB-PAD' | 'CBC' | 'CBC-PAD' | 'GCM';
      readonly iv?: Uint8Array;
      readonly aad?: Uint8Array;
      readonly tagBytes?: number;
    }
  | {
      readonly algorithm: 'RSA';
      readonly padding: 'PKCS1' | 'OAEP';
      readonly hash?: HashName;
      readonly mgfHash?: HashName;
      readonly label?: Uint8Array;
    };

/** The AES key wrap modes (SP 800-38F §6.2 KW, §6.3 KWP). */
export type WrapMode = 'KW' | 'KWP';

export interface CipherResult {
  readonly data: Uint8Array;
  /** GCM only: the authentication tag, apart from the ciphertext as KMIP carries it. */
  readonly tag?: Uint8Array;
}

/**
 * A signature scheme. `hash` undefined with `prehashed` false means the data is signed as it is (raw ECDSA or
 * PKCS#1 v1.5 without DigestInfo); `prehashed` means the data is already the digest under `hash` (KMIP Digested
 * Data). ECDSA and DSA signatures are DER Ecdsa-Sig-Value / Dss-Sig-Value (RFC 3279 §2.2.2, §2.2.3).
 */
export type SignatureSpec =
  | {
      readonly algorithm: 'RSA';
      readonly padding: 'PKCS1' | 'PSS';
      readonly hash?: HashName;
      /** PSS: MGF1's hash, the signature's hash when not given. */
      readonly mgfHash?: HashName;
      readonly saltBytes?: number;
      readonly prehashed?: boolean;
    }
  | { readonly algorithm: 'ECDSA' | 'DSA'; readonly hash?: HashName; readonly prehashed?: boolean };

export type MacSpec =
  { readonly algorithm: 'HMAC'; readonly hash: HashName } | { readonly algorithm: 'CMAC' };

/** A multi-part operation (KMIP 1.4 §2.1.15-§2.1.17: Correlation Value, Init and Final Indicator). */
export type StreamOperation =
  | { readonly kind: 'encrypt' | 'decrypt'; readonly spec: CipherSpec }
  | { readonly kind: 'sign' | 'verify'; readonly spec: SignatureSpec }
  | { readonly kind: 'mac' | 'mac-verify'; readonly spec: MacSpec }
  | { readonly kind: 'digest'; readonly hash: HashName };

export interface StreamResult {
  /** Cipher output of the last part (ciphertext, plaintext), the signature, MAC or digest. */
  readonly data: Uint8Array;
  /** GCM encryption: the authentication tag. */
  readonly tag?: Uint8Array;
  /** Verification: whether the signature or MAC verified. */
  readonly valid?: boolean;
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
  generateSecretKey(kek: SealedKek, algorithm: SecretKeyAlgorithm, bits: number): Promise<GeneratedSecretKey>;
  /** Generates a key pair inside the token, without stalling other calls (RSA generation takes seconds). */
  generateKeyPair(kek: SealedKek, spec: KeyPairSpec): Promise<GeneratedKeyPair>;
  /** Seals client-supplied bytes under the KEK. The caller zeroes its own copy afterwards. */
  seal(kek: SealedKek, plaintext: Uint8Array, format: SealedSecret['format']): Promise<SealedSecret>;
  /** The plaintext of a sealed secret, for Get. The caller zeroes it after use and never logs it. */
  unseal(kek: SealedKek, sealed: SealedSecret): Promise<Uint8Array>;
  /**
   * Whether this sealed form costs the token more to read than seal() of the same bytes would give. A key generated
   * in the token stays in the form the token made it in (its bytes never enter the process), which can be slow to
   * read; once a client has been served its bytes anyway, the caller may seal them again and keep that form.
   */
  readsFasterResealed(sealed: SealedSecret): boolean;
  /** Random bytes from the token's generator. */
  random(length: number): Promise<Uint8Array>;
  /** Mixes bytes into the token's generator (C_SeedRandom); false when the token does not take seeds. */
  seedRandom(seed: Uint8Array): Promise<boolean>;
  /** A digest computed by the token. */
  digest(hash: HashName, data: Uint8Array): Promise<Uint8Array>;

  /** Encrypts with a key held in the token. */
  encrypt(key: KeyRef, spec: CipherSpec, data: Uint8Array): Promise<CipherResult>;
  /**
   * Wraps bytes (a key's value, or its TTLV Key Value) under an AES key held in the token: 'KW' is AES Key Wrap
   * (RFC 3394, SP 800-38F KW: at least 16 bytes, a multiple of 8), 'KWP' AES Key Wrap with Padding (RFC 5649).
   * The bytes become a token object only for the call. A length the mode or the token cannot wrap is 'bad-input'.
   */
  wrap(key: KeyRef, mode: WrapMode, data: Uint8Array): Promise<Uint8Array>;
  /**
   * The inverse of wrap(): bytes a client wrapped under an AES key held in the token, unwrapped inside it. Bytes that
   * fail the mode's integrity check (RFC 3394 §2.2.3, RFC 5649 §3), or of a length the mode cannot have, are
   * 'bad-input'.
   */
  unwrap(key: KeyRef, mode: WrapMode, wrapped: Uint8Array): Promise<Uint8Array>;
  /**
   * ECDH key agreement (SP 800-56A §5.7.1.2, the shared secret's x-coordinate, no KDF) between an EC private key
   * held in the token and a peer's public key (SubjectPublicKeyInfo DER) on the same curve. A peer key that is not a
   * point of that curve is 'bad-input'.
   */
  ecdh(privateKey: KeyRef, peerSpki: Uint8Array): Promise<Uint8Array>;
  /**
   * PBKDF2 (RFC 8018 §5.2, PKCS#5 v2.1) with HMAC over `hash` as the PRF, the password being a secret held in the
   * token (an HMAC key): `length` bytes. Iteration counts and lengths beyond checkPbkdf2's limits are 'bad-input'.
   */
  pbkdf2(
    password: KeyRef,
    hash: HashName,
    salt: Uint8Array,
    iterations: number,
    length: number,
  ): Promise<Uint8Array>;
  /** Decrypts with a key held in the token; a failed GCM tag or bad padding is 'bad-input'. */
  decrypt(key: KeyRef, spec: CipherSpec, data: Uint8Array, tag?: Uint8Array): Promise<Uint8Array>;
  sign(key: KeyRef, spec: SignatureSpec, data: Uint8Array): Promise<Uint8Array>;
  /** Whether the signature verifies; a malformed signature is simply not valid. */
  verify(key: KeyRef, spec: SignatureSpec, data: Uint8Array, signature: Uint8Array): Promise<boolean>;
  mac(key: KeyRef, spec: MacSpec, data: Uint8Array): Promise<Uint8Array>;
  macVerify(key: KeyRef, spec: MacSpec, data: Uint8Array, mac: Uint8Array): Promise<boolean>;
  /**
   * Starts a multi-part operation in the token and answers its id; the key stays held until it ends. Refused as
   * 'unsupported' for what the token cannot do in parts (RSA encryption, raw ECDSA, padded ECB) or when too many
   * are open; an operation idle for long is abandoned.
   */
  beginStream(key: KeyRef | undefined, operation: StreamOperation): Promise<string>;
  /** Feeds a part; answers the cipher output it produced (empty for the others). */
  updateStream(id: string, data: Uint8Array): Promise<Uint8Array>;
  /** Feeds the last part and ends the operation; a GCM decryption takes its tag, a verification its signature. */
  finishStream(
    id: string,
    data: Uint8Array,
    last: { readonly tag?: Uint8Array; readonly signature?: Uint8Array },
  ): Promise<StreamResult>;
  /** Ends an operation without a result (unknown ids are ignored). */
  abortStream(id: string): void;
  /** Drops a key held for cryptographic calls (after Destroy); unknown ids are ignored. */
  forgetKey(id: string): void;

  close(): Promise<void>;
}
