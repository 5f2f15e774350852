import { ItemType } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValues } from '../kmip/vocabulary.js';
import { errors } from './errors.js';
import { enumAttribute, ObjectType, single } from './managed-object.js';

const Algorithm = enumValues('CryptographicAlgorithm', 'AES', 'HMAC_SHA256', 'HMAC_SHA384', 'HMAC_SHA512');

/** Symmetric algorithms that stay strong against a quantum computer at 256-bit keys and above (see below). */
const quantumSafeSymmetric = new Set<number>([
  Algorithm.AES,
  Algorithm.HMAC_SHA256,
  Algorithm.HMAC_SHA384,
  Algorithm.HMAC_SHA512,
]);
const QUANTUM_SAFE_BITS = 256;

/**
 * Quantum Safe (KMIP 2.0 §4.45, 2.1 §4.45): "a flag to be set to indicate an object is required to be Quantum
 * Safe for the given Protection Period and Protection Level". An object asked to be Quantum Safe that this server
 * cannot vouch for is refused, as the QS-M-2 profile vectors expect (General Failure).
 *
 * What this server vouches for, whatever the Protection Period: symmetric keys of AES or HMAC-SHA-256/384/512 of at
 * least 256 bits. Grover's search halves the strength of a symmetric key, so 256 bits keep 128 (NIST IR 8105 §4.2;
 * CNSA 2.0 asks for AES-256); shorter keys, DES and 3DES do not. RSA, DSA, Diffie-Hellman and elliptic-curve keys
 * fall to Shor's algorithm whatever their size (IR 8105 §4.1), and the server cannot judge the strength of Secret
 * Data, Opaque Objects or the key inside a certificate it did not issue, so it refuses those too.
 */
export function requireQuantumSafe(objectType: number, attributes: readonly Attribute[]): void {
  if (!asksQuantumSafe(attributes)) return;
  const algorithm = enumAttribute(attributes, 'CryptographicAlgorithm');
  const length = single(attributes, 'CryptographicLength');
  const bits = length?.type === ItemType.Integer ? length.value : 0;
  if (
    objectType === ObjectType.SymmetricKey &&
    algorithm !== undefined &&
    quantumSafeSymmetric.has(algorithm) &&
    bits >= QUANTUM_SAFE_BITS
  ) {
    return;
  }
  throw errors.generalFailure(
    objectType === ObjectType.SymmetricKey
      ? `Quantum Safe asks for a key a quantum computer cannot weaken below 128 bits; this server vouches for AES and HMAC-SHA-256/384/512 keys of ${QUANTUM_SAFE_BITS} bits or more only`
      : `Quantum Safe cannot be vouched for this object: asymmetric keys fall to Shor's algorithm, and the strength of secret data, opaque objects and certificates is not known to the server`,
  );
}

/** Whether the attributes ask for Quantum Safe. */
export function asksQuantumSafe(attributes: readonly Attribute[]): boolean {
  const flag = single(attributes, 'QuantumSafe');
  return flag?.type === ItemType.Boolean && flag.value;
}
