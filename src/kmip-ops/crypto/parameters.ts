/**
 * Cryptographic Parameters (KMIP 1.4 §3.6, 2.1 §4.13) as the cryptographic operations read them, and their
 * translation into the Hsm's cipher, signature and MAC specifications.
 *
 * Where the parameters come from (KMIP 1.4 §4.29 Encrypt, §4.31 Sign, §4.33 MAC, and alike): the request's
 * Cryptographic Parameters, field by field over the key's own Cryptographic Parameters attribute (its first
 * instance), and the key's Cryptographic Algorithm when neither names one. Anything this server cannot do is refused
 * with a message that names the field, never answered with a guess.
 */
import { ItemType, type TtlvItem } from '../../ttlv/types.js';
import { Fields } from '../../kmip/fields.js';
import { enumValues } from '../../kmip/vocabulary.js';
import type { CipherSpec, HashName, MacSpec, SignatureSpec } from '../../hsm/hsm.js';
import type { RequestContext } from '../context.js';
import { errors } from '../errors.js';
import { enumAttribute, single, type ManagedObject } from '../managed-object.js';

export const Algorithm = enumValues(
  'CryptographicAlgorithm',
  'AES',
  'DES',
  'DES3',
  'RSA',
  'DSA',
  'ECDSA',
  'EC',
  'HMAC_SHA1',
  'HMAC_SHA224',
  'HMAC_SHA256',
  'HMAC_SHA384',
  'HMAC_SHA512',
);
const Mode = enumValues('BlockCipherMode', 'CBC', 'ECB', 'GCM', 'CMAC', 'AEAD');
const Padding = enumValues('PaddingMethod', 'None', 'OAEP', 'PKCS5', 'PKCS1V1_5', 'PSS');
const Hashing = enumValues('HashingAlgorithm', 'SHA_1', 'SHA_224', 'SHA_256', 'SHA_384', 'SHA_512');
const Signature = enumValues(
  'DigitalSignatureAlgorithm',
  'SHA_1WithRSAEncryption',
  'SHA_224WithRSAEncryption',
  'SHA_256WithRSAEncryption',
  'SHA_384WithRSAEncryption',
  'SHA_512WithRSAEncryption',
  'RSASSA_PSS',
  'DSAWithSHA_1',
  'DSAWithSHA224',
  'DSAWithSHA256',
  'ECDSAWithSHA_1',
  'ECDSAWithSHA224',
  'ECDSAWithSHA256',
  'ECDSAWithSHA384',
  'ECDSAWithSHA512',
);

const hashNames = new Map<number, HashName>([
  [Hashing.SHA_1, 'SHA-1'],
  [Hashing.SHA_224, 'SHA-224'],
  [Hashing.SHA_256, 'SHA-256'],
  [Hashing.SHA_384, 'SHA-384'],
  [Hashing.SHA_512, 'SHA-512'],
]);

const hmacHashes = new Map<number, HashName>([
  [Algorithm.HMAC_SHA1, 'SHA-1'],
  [Algorithm.HMAC_SHA224, 'SHA-224'],
  [Algorithm.HMAC_SHA256, 'SHA-256'],
  [Algorithm.HMAC_SHA384, 'SHA-384'],
  [Algorithm.HMAC_SHA512, 'SHA-512'],
]);

/** Digital Signature Algorithm values as a scheme and hash (KMIP 1.4 §9.1.3.2.7). */
const signatureSchemes = new Map<number, { scheme: 'RSA' | 'PSS' | 'DSA' | 'ECDSA'; hash?: HashName }>([
  [Signature.SHA_1WithRSAEncryption, { scheme: 'RSA', hash: 'SHA-1' }],
  [Signature.SHA_224WithRSAEncryption, { scheme: 'RSA', hash: 'SHA-224' }],
  [Signature.SHA_256WithRSAEncryption, { scheme: 'RSA', hash: 'SHA-256' }],
  [Signature.SHA_384WithRSAEncryption, { scheme: 'RSA', hash: 'SHA-384' }],
  [Signature.SHA_512WithRSAEncryption, { scheme: 'RSA', hash: 'SHA-512' }],
  [Signature.RSASSA_PSS, { scheme: 'PSS' }],
  [Signature.DSAWithSHA_1, { scheme: 'DSA', hash: 'SHA-1' }],
  [Signature.DSAWithSHA224, { scheme: 'DSA', hash: 'SHA-224' }],
  [Signature.DSAWithSHA256, { scheme: 'DSA', hash: 'SHA-256' }],
  [Signature.ECDSAWithSHA_1, { scheme: 'ECDSA', hash: 'SHA-1' }],
  [Signature.ECDSAWithSHA224, { scheme: 'ECDSA', hash: 'SHA-224' }],
  [Signature.ECDSAWithSHA256, { scheme: 'ECDSA', hash: 'SHA-256' }],
  [Signature.ECDSAWithSHA384, { scheme: 'ECDSA', hash: 'SHA-384' }],
  [Signature.ECDSAWithSHA512, { scheme: 'ECDSA', hash: 'SHA-512' }],
]);

/** The fields of Cryptographic Parameters this server acts on, merged from the request and the key. */
export interface CryptoParameters {
  readonly algorithm: number | undefined;
  readonly mode: number | undefined;
  readonly padding: number | undefined;
  readonly hashing: number | undefined;
  readonly signature: number | undefined;
  readonly randomIv: boolean | undefined;
  /** IV Length in bits (KMIP 1.4 §3.6). */
  readonly ivLength: number | undefined;
  /** Tag Length in bytes (KMIP 1.4 §3.6). */
  readonly tagLength: number | undefined;
  /** Salt Length in bytes, as the vectors use it (PSS, RFC 8017 §9.1). */
  readonly saltLength: number | undefined;
  readonly maskGeneratorHashing: number | undefined;
  /** OAEP's encoding parameters (P Source, the label of RFC 8017 §7.1). */
  readonly pSource: Uint8Array | undefined;
}

function read(fields: Fields | undefined): Partial<Record<keyof CryptoParameters, unknown>> {
  if (fields === undefined) return {};
  const values = {
    algorithm: fields.enumeration('CryptographicAlgorithm'),
    mode: fields.enumeration('BlockCipherMode'),
    padding: fields.enumeration('PaddingMethod'),
    hashing: fields.enumeration('HashingAlgorithm'),
    signature: fields.enumeration('DigitalSignatureAlgorithm'),
    randomIv: fields.boolean('RandomIV'),
    ivLength: fields.integer('IVLength'),
    tagLength: fields.integer('TagLength'),
    saltLength: fields.integer('SaltLength'),
    maskGeneratorHashing: fields.enumeration('MaskGeneratorHashingAlgorithm'),
    pSource: fields.bytes('PSource'),
  };
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined));
}

/** The request's Cryptographic Parameters over the key's attribute, over the key's algorithm. */
export function cryptoParameters(
  request: Fields | undefined,
  object: ManagedObject,
  ctx: RequestContext,
): CryptoParameters {
  const attribute: TtlvItem | undefined = single(object.attributes, 'CryptographicParameters');
  const fromKey =
    attribute?.type === ItemType.Structure
      ? read(new Fields(attribute, ctx.version, 'Cryptographic Parameters attribute'))
      : {};
  return completed({ ...fromKey, ...read(request) }, object);
}

/**
 * One instance of a key's Cryptographic Parameters attribute on its own, over the key's algorithm: key wrapping
 * uses the instance the request matched, or the first (KMIP 1.4 §2.1.6), and takes no field from another one.
 */
export function cryptoParametersInstance(instance: Fields, object: ManagedObject): CryptoParameters {
  return completed(read(instance), object);
}

function completed(
  given: Partial<Record<keyof CryptoParameters, unknown>>,
  object: ManagedObject,
): CryptoParameters {
  const merged = given as Partial<CryptoParameters>;
  return {
    algorithm: merged.algorithm ?? enumAttribute(object.attributes, 'CryptographicAlgorithm'),
    mode: merged.mode,
    padding: merged.padding,
    hashing: merged.hashing,
    signature: merged.signature,
    randomIv: merged.randomIv,
    ivLength: merged.ivLength,
    tagLength: merged.tagLength,
    saltLength: merged.saltLength,
    maskGeneratorHashing: merged.maskGeneratorHashing,
    pSource: merged.pSource,
  };
}

function hashOf(value: number | undefined, field: string): HashName | undefined {
  if (value === undefined) return undefined;
  const hash = hashNames.get(value);
  if (hash === undefined) throw errors.invalidField(`${field}: this server hashes with SHA-1 and SHA-2 only`);
  return hash;
}

export function requiredHash(p: CryptoParameters): HashName {
  return requiredHashing(p.hashing);
}

/** A Hashing Algorithm value the token hashes with, if one is given; another one is refused. */
export function optionalHashing(value: number | undefined): HashName | undefined {
  return hashOf(value, 'Hashing Algorithm');
}

/** The hash of an HMAC Cryptographic Algorithm (HMAC_SHA1 to HMAC_SHA512), if it is one. */
export function hmacHashOf(algorithm: number | undefined): HashName | undefined {
  return algorithm === undefined ? undefined : hmacHashes.get(algorithm);
}

/** A Hashing Algorithm value the token hashes with, refusing a missing or other one. */
export function requiredHashing(value: number | undefined): HashName {
  const hash = hashOf(value, 'Hashing Algorithm');
  if (hash === undefined) throw errors.invalidField('Cryptographic Parameters need a Hashing Algorithm');
  return hash;
}

/** What an Encrypt or Decrypt does, before an IV is chosen. */
export type CipherPlan =
  | {
      readonly kind: 'block';
      readonly algorithm: 'AES' | 'DES3' | 'DES';
      readonly mode: 'ECB' | 'ECB-PAD' | 'CBC' | 'CBC-PAD' | 'GCM';
      /** Bytes of IV the mode takes (0 for ECB). */
      readonly ivBytes: number;
      readonly tagBytes: number | undefined;
    }
  | { readonly kind: 'rsa'; readonly spec: CipherSpec & { algorithm: 'RSA' } };

export function cipherPlan(p: CryptoParameters): CipherPlan {
  const algorithm =
    p.algorithm === Algorithm.AES
      ? 'AES'
      : p.algorithm === Algorithm.DES3
        ? 'DES3'
        : p.algorithm === Algorithm.DES
          ? 'DES'
          : p.algorithm === Algorithm.RSA
            ? 'RSA'
            : undefined;
  if (algorithm === undefined) {
    throw errors.invalidField(
      p.algorithm === undefined
        ? 'no Cryptographic Algorithm: name one in Cryptographic Parameters or give the key one'
        : 'this server encrypts with AES, 3DES, DES and RSA keys only',
    );
  }
  if (algorithm === 'RSA') {
    const padding = p.padding ?? Padding.OAEP;
    if (padding === Padding.PKCS1V1_5) return { kind: 'rsa', spec: { algorithm, padding: 'PKCS1' } };
    if (padding !== Padding.OAEP)
      throw errors.invalidField('RSA encryption takes Padding Method OAEP or PKCS1 v1.5');
    // KMIP 1.4 §3.6: OAEP's hash defaults to SHA-1, and the mask generator's hash to SHA-1 (MGF1).
    const hash = hashOf(p.hashing, 'Hashing Algorithm') ?? 'SHA-1';
    const mgfHash = hashOf(p.maskGeneratorHashing, 'Mask Generator Hashing Algorithm') ?? 'SHA-1';
    return {
      kind: 'rsa',
      spec: { algorithm, padding: 'OAEP', hash, mgfHash, ...(p.pSource ? { label: p.pSource } : {}) },
    };
  }
  const block = algorithm === 'AES' ? 16 : 8;
  const padded = p.padding === Padding.PKCS5;
  if (p.padding !== undefined && p.padding !== Padding.None && !padded) {
    throw errors.invalidField('block ciphers take Padding Method PKCS5 or None');
  }
  switch (p.mode) {
    case Mode.ECB:
      return { kind: 'block', algorithm, mode: padded ? 'ECB-PAD' : 'ECB', ivBytes: 0, tagBytes: undefined };
    case Mode.CBC:
      return {
        kind: 'block',
        algorithm,
        mode: padded ? 'CBC-PAD' : 'CBC',
        ivBytes: block,
        tagBytes: undefined,
      };
    case Mode.GCM: {
      if (algorithm !== 'AES') throw errors.invalidField('GCM is a mode of AES');
      // IV Length is in bits (KMIP 1.4 §3.6); 96 bits is GCM's native size (SP 800-38D §5.2.1.1).
      const ivBits = p.ivLength ?? 96;
      if (ivBits % 8 !== 0 || ivBits < 8 || ivBits > 1024)
        throw errors.invalidField('IV Length must be whole bytes');
      const tagBytes = p.tagLength ?? 16;
      // SP 800-38D §5.2.1.2: 12 to 16 bytes. The profile vectors (CS-BC-M-GCM-1) expect General Failure here.
      if (tagBytes < 12 || tagBytes > 16) {
        throw errors.generalFailure(
          `Tag Length ${String(tagBytes)} is not a GCM tag length (12 to 16 bytes)`,
        );
      }
      return { kind: 'block', algorithm, mode: 'GCM', ivBytes: ivBits / 8, tagBytes };
    }
    case undefined:
      throw errors.invalidField('Cryptographic Parameters need a Block Cipher Mode (ECB, CBC or GCM)');
    default:
      throw errors.invalidField('this server offers Block Cipher Mode ECB, CBC and GCM');
  }
}

/** The signature scheme from Digital Signature Algorithm, or Cryptographic Algorithm with Padding and Hashing. */
export function signaturePlan(p: CryptoParameters, prehashed: boolean): SignatureSpec {
  const named = p.signature === undefined ? undefined : signatureSchemes.get(p.signature);
  if (p.signature !== undefined && named === undefined) {
    throw errors.invalidField(
      'this Digital Signature Algorithm is not offered (SHA-1/SHA-2 with RSA, PSS, DSA, ECDSA)',
    );
  }
  const hash = named?.hash ?? hashOf(p.hashing, 'Hashing Algorithm');
  const scheme =
    named?.scheme ??
    (p.algorithm === Algorithm.RSA
      ? p.padding === Padding.PSS
        ? 'PSS'
        : 'RSA'
      : p.algorithm === Algorithm.ECDSA || p.algorithm === Algorithm.EC
        ? 'ECDSA'
        : p.algorithm === Algorithm.DSA
          ? 'DSA'
          : undefined);
  if (scheme === undefined) throw errors.invalidField('signatures are made with RSA, DSA and EC keys');
  // ECDSA and DSA sign a digest as it is. RSA PKCS#1 v1.5 given Digested Data with no hash named signs those bytes
  // as they are (PKCS#1 v1.5 padding, no DigestInfo added: CKM_RSA_PKCS), which lets a client pass a DigestInfo it
  // built, and is what TC-RSA-SIGN-DIGESTEDDATA-1 expects; PSS cannot do without its hash.
  if (
    prehashed &&
    hash === undefined &&
    scheme === 'RSA' &&
    (p.padding ?? Padding.PKCS1V1_5) === Padding.PKCS1V1_5
  ) {
    return { algorithm: 'RSA', padding: 'PKCS1' };
  }
  if (prehashed && hash === undefined && (scheme === 'RSA' || scheme === 'PSS')) {
    throw errors.invalidField('Digested Data for RSA-PSS needs the Hashing Algorithm that made it');
  }
  const options = { ...(hash ? { hash } : {}), ...(prehashed ? { prehashed } : {}) };
  switch (scheme) {
    case 'RSA':
      if (p.padding !== undefined && p.padding !== Padding.PKCS1V1_5 && named !== undefined) {
        throw errors.invalidField(`Padding Method does not match the Digital Signature Algorithm`);
      }
      // A hash is always used for RSA here: PKCS#1 v1.5 without DigestInfo is not a signature scheme of KMIP.
      return { algorithm: 'RSA', padding: 'PKCS1', ...options, hash: hash ?? 'SHA-256' };
    case 'PSS':
      return {
        algorithm: 'RSA',
        padding: 'PSS',
        ...options,
        hash: hash ?? 'SHA-256',
        // MGF1 with the signature's hash unless the parameters name another (the reference signatures of the
        // CS-AC profile vectors use MGF1 with the signing hash; KMIP 1.4 Table 65's SHA-1 default is OAEP's).
        ...(p.maskGeneratorHashing === undefined
          ? {}
          : { mgfHash: hashOf(p.maskGeneratorHashing, 'Mask Generator Hashing Algorithm') ?? 'SHA-1' }),
        ...(p.saltLength === undefined ? {} : { saltBytes: p.saltLength }),
      };
    case 'DSA':
    case 'ECDSA':
      return { algorithm: scheme, ...options };
  }
}

/** HMAC with the hash its algorithm names, or CMAC for a block cipher key with Block Cipher Mode CMAC. */
export function macPlan(p: CryptoParameters): MacSpec {
  const hmac = p.algorithm === undefined ? undefined : hmacHashes.get(p.algorithm);
  if (hmac) return { algorithm: 'HMAC', hash: hmac };
  if ((p.algorithm === Algorithm.AES || p.algorithm === Algorithm.DES3) && p.mode === Mode.CMAC) {
    return { algorithm: 'CMAC' };
  }
  throw errors.invalidField(
    'MAC takes an HMAC algorithm (HMAC_SHA1 to HMAC_SHA512), or AES/3DES with mode CMAC',
  );
}

/** Whether the MAC runs as HMAC, which the token does with the key as a generic secret. */
export function isHmac(spec: MacSpec): boolean {
  return spec.algorithm === 'HMAC';
}

export { Padding, Mode };
