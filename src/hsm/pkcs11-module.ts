/**
 * The PKCS#11 library, loaded and initialised at most once per process, and the translation of its failures into
 * HsmError. Only this folder imports pkcs11js (DESIGN.md "Layout").
 *
 * Why once: C_Initialize reads process-wide state (SoftHSM2 reads SOFTHSM2_CONF at that moment and nowhere else),
 * and a library may be initialised only once until C_Finalize (PKCS#11 v2.40 §5.4, CKR_CRYPTOKI_ALREADY_INITIALIZED).
 * So every Hsm in a process shares the one loaded module, and asking for the same library with another SoftHSM2
 * configuration is refused instead of silently using the first one. The module is never finalised: sessions are
 * closed by their owners, and process exit releases the rest.
 */
import pkcs11js, { type Template } from 'pkcs11js';
import { HsmError, type HsmErrorCode } from './hsm.js';

export type Pkcs11 = pkcs11js.PKCS11;
export type { Handle, KeyPair, Mechanism, Template, TokenInfo } from 'pkcs11js';
export { pkcs11js as ck };

interface LoadedModule {
  readonly pkcs11: Pkcs11;
  /** The SOFTHSM2_CONF the library was initialised with, or undefined for a module configured otherwise. */
  readonly softhsmConf: string | undefined;
}

const loaded = new Map<string, LoadedModule>();

/**
 * The initialised library at `path`. `softhsmConf`, when given, is exported as SOFTHSM2_CONF before C_Initialize;
 * undefined means "whatever the library is configured with" and accepts an already loaded module as it is.
 */
export function loadModule(path: string, softhsmConf?: string): Pkcs11 {
  const existing = loaded.get(path);
  if (existing !== undefined) {
    if (softhsmConf !== undefined && existing.softhsmConf !== softhsmConf) {
      throw new HsmError(
        'not-initialised',
        `${path} is already initialised in this process with ${existing.softhsmConf ?? 'its own configuration'}; ` +
          'one SoftHSM2 data directory per process',
      );
    }
    return existing.pkcs11;
  }
  const pkcs11 = new pkcs11js.PKCS11();
  try {
    pkcs11.load(path);
  } catch (error) {
    throw toHsmError(`load ${path}`, error, { fallback: 'not-initialised' });
  }
  if (softhsmConf !== undefined) process.env['SOFTHSM2_CONF'] = softhsmConf;
  try {
    // CKF_OS_LOCKING_OK (PKCS#11 v2.40 §5.4 C_Initialize): the async calls run on libuv worker threads, so
    // the library must lock for itself; SoftHSM2 without it crashes under concurrent calls.
    pkcs11.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
  } catch (error) {
    if (ckrName(error) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      throw toHsmError('C_Initialize', error, { fallback: 'not-initialised' });
    }
  }
  loaded.set(path, { pkcs11, softhsmConf });
  return pkcs11;
}

/** The CKR_* name of a pkcs11js error (its message is exactly that name), or undefined for other errors. */
export function ckrName(error: unknown): string | undefined {
  if (error instanceof Error && /^CKR_[A-Z0-9_]+$/.test(error.message)) return error.message;
  return undefined;
}

/** Return values that mean the PIN or the login is wrong (PKCS#11 v2.40 §5.6 C_Login). */
const loginFailures = new Set([
  'CKR_PIN_INCORRECT',
  'CKR_PIN_INVALID',
  'CKR_PIN_LEN_RANGE',
  'CKR_PIN_EXPIRED',
  'CKR_PIN_LOCKED',
  'CKR_USER_PIN_NOT_INITIALIZED',
  'CKR_USER_TYPE_INVALID',
]);

/** Return values that mean there is no usable library or token. */
const notInitialised = new Set([
  'CKR_CRYPTOKI_NOT_INITIALIZED',
  'CKR_TOKEN_NOT_PRESENT',
  'CKR_TOKEN_NOT_RECOGNIZED',
  'CKR_SLOT_ID_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
]);

/** Return values that mean the token cannot do what was asked (mechanism, size, curve, template). */
const unsupported = new Set([
  'CKR_MECHANISM_INVALID',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_KEY_SIZE_RANGE',
  'CKR_DOMAIN_PARAMS_INVALID',
  'CKR_CURVE_NOT_SUPPORTED',
  'CKR_TEMPLATE_INCONSISTENT',
  'CKR_ATTRIBUTE_VALUE_INVALID',
  'CKR_ATTRIBUTE_TYPE_INVALID',
  'CKR_KEY_TYPE_INCONSISTENT',
]);

/**
 * Return values of C_UnwrapKey that mean "this ciphertext does not open under this key". SoftHSM2 2.6.1 answers
 * an RFC 5649 integrity failure with CKR_GENERAL_ERROR, so that counts here too (only for unwrap calls).
 */
const unwrapFailures = new Set([
  'CKR_WRAPPED_KEY_INVALID',
  'CKR_WRAPPED_KEY_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_GENERAL_ERROR',
]);

/** Return values that refuse the data or the key given to a cryptographic call, not the token's state. */
const dataFailures = new Set([
  'CKR_DATA_INVALID',
  'CKR_DATA_LEN_RANGE',
  'CKR_ENCRYPTED_DATA_INVALID',
  'CKR_ENCRYPTED_DATA_LEN_RANGE',
  'CKR_MECHANISM_PARAM_INVALID',
  'CKR_KEY_TYPE_INCONSISTENT',
  'CKR_KEY_FUNCTION_NOT_PERMITTED',
  'CKR_KEY_SIZE_RANGE',
  'CKR_TEMPLATE_INCONSISTENT',
  'CKR_ATTRIBUTE_VALUE_INVALID',
]);

/** How a failed call is classified beyond the fixed tables above. */
export interface ErrorCodes {
  /** For cryptographic calls: the code a refusal of the data gets ('bad-input'). */
  readonly data?: HsmErrorCode;
  /** For unwrap calls: the code an integrity failure gets ('unseal-failed' for secrets, 'bad-key' for KEKs). */
  readonly unwrap?: HsmErrorCode;
  /** The code of anything not in a table (default 'token-error'). */
  readonly fallback?: HsmErrorCode;
}

/**
 * An HsmError for a failed call. `operation` names the call (e.g. "C_UnwrapKey KEK"). The detail carries the CKR
 * name, never the call's arguments: those may be PINs or key bytes.
 */
export function toHsmError(operation: string, error: unknown, codes: ErrorCodes = {}): HsmError {
  if (error instanceof HsmError) return error;
  const fallback = codes.fallback ?? 'token-error';
  const name = ckrName(error);
  if (name === undefined) {
    // Not a CKR: a loader or argument error from pkcs11js, whose text is about types and paths, never values.
    const what = error instanceof Error ? `${error.name}: ${error.message.slice(0, 200)}` : 'unknown error';
    return new HsmError(fallback, `${operation}: ${what}`, { cause: error });
  }
  let code = fallback;
  if (codes.unwrap !== undefined && unwrapFailures.has(name)) code = codes.unwrap;
  else if (codes.data !== undefined && dataFailures.has(name)) code = codes.data;
  else if (loginFailures.has(name)) code = 'login-failed';
  else if (notInitialised.has(name)) code = 'not-initialised';
  else if (unsupported.has(name)) code = 'unsupported';
  return new HsmError(code, `${operation}: ${name}`, { cause: error });
}

/** Runs a synchronous PKCS#11 call, turning its failure into an HsmError. */
export function call<T>(operation: string, fn: () => T, codes?: ErrorCodes): T {
  try {
    return fn();
  } catch (error) {
    throw toHsmError(operation, error, codes);
  }
}

/** Awaits an asynchronous PKCS#11 call (the *Async variants run on a libuv worker), mapping its failure. */
export async function callAsync<T>(operation: string, fn: () => Promise<T>, codes?: ErrorCodes): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw toHsmError(operation, error, codes);
  }
}

/**
 * A generic secret session object of this application (CKA_TOKEN false, CKA_PRIVATE true), made for one call and
 * destroyed after it: `readable` lets CKA_VALUE be read (PKCS#11 v2.40 §5.7 C_GetAttributeValue); otherwise only
 * C_WrapKey reads it (§5.13).
 */
export function sessionSecret(readable: boolean): Template {
  return [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
    { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_GENERIC_SECRET },
    { type: pkcs11js.CKA_TOKEN, value: false },
    { type: pkcs11js.CKA_PRIVATE, value: true },
    { type: pkcs11js.CKA_SENSITIVE, value: !readable },
    { type: pkcs11js.CKA_EXTRACTABLE, value: true },
  ];
}
