import { FieldError } from '../kmip/fields.js';
import { registryFor, versionAtLeast, type KmipVersion } from '../kmip/registry.js';
import { tag } from '../kmip/vocabulary.js';
import { HsmError } from '../hsm/hsm.js';
import { StoreError } from '../store/store.js';

/**
 * KmipError: a failure the client is told about, with a Result Reason and a message safe to send (no key material,
 * no internal detail). Every reason this server uses is created here, in one table, so that the same failure always
 * reads the same. Errors from the layers below (FieldError, StoreError, HsmError) are translated here and only here.
 */
export class KmipError extends Error {
  override readonly name = 'KmipError';
  constructor(
    /** Result Reason as KMIP 2.x names it. */
    readonly reason: string,
    /** The reason older versions use instead (Wrong Key Lifecycle State is 2.0 only: 1.4 §11 uses others). */
    readonly olderReason: string | undefined,
    message: string,
    options?: { cause?: unknown; olderThrough?: KmipVersion },
  ) {
    super(message, options);
    this.olderThrough = options?.olderThrough;
  }

  /**
   * When set, the last version that answers `olderReason` even though it defines `reason` (the profile vectors
   * of 2.0 expect some 1.x reasons); unset, `olderReason` is used only where `reason` does not exist.
   */
  readonly olderThrough: KmipVersion | undefined;

  /** The Result Reason value in a version: the reason, its older stand-in, or General Failure. */
  reasonValue(version: KmipVersion): number {
    const registry = registryFor(version);
    const t = tag('ResultReason');
    const older = this.olderReason === undefined ? undefined : registry.enumValue(t, this.olderReason);
    const preferOlder = this.olderThrough !== undefined && versionAtLeast(this.olderThrough, version);
    return (
      (preferOlder ? older : undefined) ??
      registry.enumValue(t, this.reason) ??
      older ??
      registry.enumValue(t, 'GeneralFailure') ??
      0x100
    );
  }
}

const make =
  (reason: string, olderReason?: string, olderThrough?: KmipVersion) =>
  (message: string, cause?: unknown): KmipError =>
    new KmipError(reason, olderReason, message, {
      ...(cause === undefined ? {} : { cause }),
      ...(olderThrough === undefined ? {} : { olderThrough }),
    });

export const errors = {
  itemNotFound: make('ItemNotFound'),
  /** No object with the identifier (or none the caller may see): 2.x error tables say Object Not Found (BL-M-4-21). */
  objectNotFound: make('ObjectNotFound', 'ItemNotFound'),
  /** A Correlation Value no open operation of the caller has (2.1 §6.1.20.1 Invalid Correlation Value). */
  invalidCorrelationValue: make('InvalidCorrelationValue', 'ItemNotFound'),
  invalidMessage: make('InvalidMessage'),
  invalidField: make('InvalidField'),
  /** KMIP 2.0 §11.27 Invalid CSR; 1.x has no such reason and answers Invalid Field. */
  invalidCsr: make('InvalidCSR', 'InvalidField'),
  missingData: make('MissingData'),
  operationNotSupported: make('OperationNotSupported'),
  featureNotSupported: make('FeatureNotSupported'),
  permissionDenied: make('PermissionDenied'),
  authenticationNotSuccessful: make('AuthenticationNotSuccessful'),
  responseTooLarge: make('ResponseTooLarge'),
  keyFormatTypeNotSupported: make('KeyFormatTypeNotSupported'),
  cryptographicFailure: make('CryptographicFailure'),
  /** KMIP 1.4 Table 348: Destroy of an object in the wrong state is Permission Denied in 1.x (and 2.0's vectors). */
  wrongStateForDestroy: make('WrongKeyLifecycleState', 'PermissionDenied', '2.0'),
  /** A lifecycle date changed in a state that forbids it: as wrongStateForUse (SKLC-M-3 of each version). */
  wrongStateForChange: make('WrongKeyLifecycleState', 'PermissionDenied', '2.0'),
  /** KMIP 1.4 Table 346: Activate of an object not Pre-Active is Illegal Operation in 1.x. */
  wrongState: make('WrongKeyLifecycleState', 'IllegalOperation'),
  /**
   * A key used outside its lifecycle (KMIP 1.4 §3.22 State, §3.25 Process Start Date, §3.26 Protect Stop Date);
   * 1.x and 2.0 answer Permission Denied, 2.1 Wrong Key Lifecycle State (the profile vectors CS-BC-M-14 and CS-AC-M-8
   * of each version expect exactly that).
   */
  wrongStateForUse: make('WrongKeyLifecycleState', 'PermissionDenied', '2.0'),
  /**
   * An object another operation needs, not in the state for it (a PKCS#12 password not Active): Wrong Key
   * Lifecycle State where the version has it (TC-PKCS12-2-20), Permission Denied in 1.x (TC-PKCS12-2-14).
   */
  wrongStateOfLinked: make('WrongKeyLifecycleState', 'PermissionDenied'),
  /** KMIP 2.0 §11 reason 0x29; 1.x has no such reason and answers Permission Denied. */
  incompatibleUsageMask: make('IncompatibleCryptographicUsageMask', 'PermissionDenied'),
  attributeNotFound: make('AttributeNotFound', 'InvalidField'),
  attributeReadOnly: make('AttributeReadOnly', 'PermissionDenied'),
  attributeSingleValued: make('AttributeSingleValued', 'IndexOutOfBounds'),
  /** 2.1 §6.1.51.1: Set Attribute on an attribute the object has several instances of. */
  multiValuedAttribute: make('MultiValuedAttribute'),
  indexOutOfBounds: make('AttributeInstanceNotFound', 'IndexOutOfBounds'),
  generalFailure: make('GeneralFailure'),
  /** 2.x reasons 0x44, 0x48, 0x49: no Protection Storage Mask the request accepts is met (2.1 §7.33). */
  protectionStorageUnavailable: make('ProtectionStorageUnavailable'),
  privateProtectionStorageUnavailable: make(
    'PrivateProtectionStorageUnavailable',
    'ProtectionStorageUnavailable',
  ),
  publicProtectionStorageUnavailable: make(
    'PublicProtectionStorageUnavailable',
    'ProtectionStorageUnavailable',
  ),
  /** 2.x reason 0x35 (BL-M-8-21); 1.x answers Invalid Field. */
  nonUniqueName: make('NonUniqueNameAttribute', 'InvalidField'),
  /** The key material of a destroyed object (2.x reason 0x36, BL-M-8-21); 1.x answers Item Not Found. */
  objectDestroyed: make('ObjectDestroyed', 'ItemNotFound'),
  /** KMIP 1.4 §3.48, 2.1 §4.55: the value of a Sensitive object is not served in clear. */
  sensitive: make('Sensitive', 'PermissionDenied'),
  /** KMIP 1.4 §3.50, 2.1 §4.20: the value of an object whose Extractable is False is not served at all. */
  notExtractable: make('NotExtractable', 'PermissionDenied'),
  /**
   * An archived object is named by an operation other than Recover (KMIP 1.4 §4, 2.1 §6.1: "any archived object
   * SHALL first be made available by a Recover operation"; 1.4 §11 "Object is archived"; 2.1 §6.1.4.1).
   */
  objectArchived: make('ObjectArchived'),
  /**
   * More Usage Limits units asked for than are left (KMIP 2.1 §6.1.7.1 Check, §6.1.23.1 Get Usage Allocation);
   * 1.x has no Usage Limit Exceeded and answers Permission Denied (1.4 Table 345).
   */
  usageLimitExceeded: make('UsageLimitExceeded', 'PermissionDenied'),
  /** A Login ticket unknown, ended or another client's (2.0 §11 Invalid Ticket). */
  invalidTicket: make('InvalidTicket', 'AuthenticationNotSuccessful'),
  /**
   * A key whose Usage Limits allow no more protection, used by Encrypt, Sign or MAC: Permission Denied in every
   * version, as the profile vectors CS-BC-M-7 of 1.3 to 2.1 expect (2.1 lists it among the Encrypt errors).
   */
  usageExhausted: make('PermissionDenied'),
  /**
   * KMIP 1.4 Table 345 (Get Usage Allocation): an object without Usage Limits, or not able to apply protection, is
   * Illegal Operation in 1.x; 2.1 §6.1.23.1 has Attribute Not Found and Invalid Object Type for them.
   */
  noUsageLimits: make('AttributeNotFound', 'IllegalOperation'),
  notProtecting: make('InvalidObjectType', 'IllegalOperation'),
  /** The same table: a key not able to apply protection now (its state, its dates); Permission Denied from 2.0. */
  notProtectingNow: make('PermissionDenied', 'IllegalOperation', '1.4'),
  /** KMIP 1.4 Table 331: an object that is not a symmetric key cannot be re-keyed; 2.1 §6.1.46.1 Invalid Object Type. */
  notReKeyable: make('InvalidObjectType', 'PermissionDenied'),
  /**
   * KMIP 1.4 Table 331: a Re-key Offset that would shift dates of a key without an Activation Date is Illegal
   * Operation; 2.x has no such reason and Invalid Field says it.
   */
  illegalOperation: make('InvalidField', 'IllegalOperation', '1.4'),
  /** Import of a Unique Identifier in use without Replace Existing (KMIP 1.4 §4.41, 2.1 §6.1.25.1). */
  objectAlreadyExists: make('ObjectAlreadyExists'),
  /** An attribute value the operation cannot take (2.1 §11.6 Invalid Attribute Value); 1.x says Invalid Field. */
  invalidAttributeValue: make('InvalidAttributeValue', 'InvalidField'),
  /** The object's value is not on the server (KMIP 1.4 Table 332, 2.1 §6.1.18.1 Export: Key Value Not Present). */
  keyValueNotPresent: make('KeyValueNotPresent'),
  /** A Key Wrapping Specification's Encoding Option that cannot be met (1.4 §11.12; 1.0 has no such reason). */
  encodingOptionError: make('EncodingOptionError', 'InvalidField'),
  /** The key a Key Wrapping Specification or Key Wrapping Data names does not exist (2.1 §11 reason 0x42). */
  wrappingObjectNotFound: make('WrappingObjectNotFound', 'ItemNotFound'),
  /** ... has been destroyed (2.1 §11 reason 0x41); 1.x says Permission Denied, as for any destroyed key used. */
  wrappingObjectDestroyed: make('WrappingObjectDestroyed', 'PermissionDenied'),
  /** ... is archived (2.1 §11 reason 0x40); 1.4 has Object Archived. */
  wrappingObjectArchived: make('WrappingObjectArchived', 'ObjectArchived'),
} as const;

/**
 * Turns anything thrown by an operation into a KmipError. A KmipError keeps its reason; a FieldError is the
 * client's fault and says where; store conflicts are a retryable failure; anything else is General Failure with a
 * generic message, and `internal` is true so the caller logs the full error with the correlation id.
 */
export function toKmipError(error: unknown): { error: KmipError; internal: boolean } {
  if (error instanceof KmipError) return { error, internal: false };
  if (error instanceof FieldError) {
    // A tag the request's version does not define makes the message undecodable in that version.
    const reason = error.code === 'unknown-tag' ? errors.invalidMessage : errors.invalidField;
    return { error: reason(`${error.path} ${error.detail}`, error), internal: false };
  }
  if (error instanceof StoreError && error.code === 'conflict') {
    return {
      error: errors.generalFailure(
        'the object was changed by another request at the same time; retry',
        error,
      ),
      internal: false,
    };
  }
  if (error instanceof HsmError && error.code === 'bad-input') {
    // The token refused the data or the key for this call: the client's to fix (KMIP 1.4 §11.1 Cryptographic
    // Failure covers "the cryptographic operation failed", e.g. an authentication tag that does not verify).
    return { error: errors.cryptographicFailure(error.detail), internal: false };
  }
  if (error instanceof HsmError && error.code === 'unsupported') {
    return {
      error: errors.featureNotSupported(`the key store does not support this: ${error.detail}`),
      internal: false,
    };
  }
  return { error: errors.generalFailure('internal error; see the server log', error), internal: true };
}
