import { FieldError } from '../kmip/fields.js';
import { registryFor, type KmipVersion } from '../kmip/registry.js';
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
    /** The 1.x reason where 1.x lacks this one (Wrong Key Lifecycle State is 2.0 only: 1.4 §11 uses others). */
    readonly reason1x: string | undefined,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The Result Reason value in a version: the reason, its 1.x stand-in, or General Failure. */
  reasonValue(version: KmipVersion): number {
    const registry = registryFor(version);
    const t = tag('ResultReason');
    return (
      registry.enumValue(t, this.reason) ??
      (this.reason1x === undefined ? undefined : registry.enumValue(t, this.reason1x)) ??
      registry.enumValue(t, 'GeneralFailure') ??
      0x100
    );
  }
}

const make =
  (reason: string, reason1x?: string) =>
  (message: string, cause?: unknown): KmipError =>
    new KmipError(reason, reason1x, message, cause === undefined ? undefined : { cause });

export const errors = {
  itemNotFound: make('ItemNotFound'),
  invalidMessage: make('InvalidMessage'),
  invalidField: make('InvalidField'),
  missingData: make('MissingData'),
  operationNotSupported: make('OperationNotSupported'),
  featureNotSupported: make('FeatureNotSupported'),
  permissionDenied: make('PermissionDenied'),
  authenticationNotSuccessful: make('AuthenticationNotSuccessful'),
  responseTooLarge: make('ResponseTooLarge'),
  keyFormatTypeNotSupported: make('KeyFormatTypeNotSupported'),
  cryptographicFailure: make('CryptographicFailure'),
  /** KMIP 1.4 Table 348: Destroy of an object in the wrong state is Permission Denied in 1.x. */
  wrongStateForDestroy: make('WrongKeyLifecycleState', 'PermissionDenied'),
  /** KMIP 1.4 Table 346: Activate of an object not Pre-Active is Illegal Operation in 1.x. */
  wrongState: make('WrongKeyLifecycleState', 'IllegalOperation'),
  attributeNotFound: make('AttributeNotFound', 'InvalidField'),
  attributeReadOnly: make('AttributeReadOnly', 'PermissionDenied'),
  attributeSingleValued: make('AttributeSingleValued', 'IndexOutOfBounds'),
  indexOutOfBounds: make('AttributeInstanceNotFound', 'IndexOutOfBounds'),
  generalFailure: make('GeneralFailure'),
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
  if (error instanceof HsmError && error.code === 'unsupported') {
    return {
      error: errors.featureNotSupported(`the key store does not support this: ${error.detail}`),
      internal: false,
    };
  }
  return { error: errors.generalFailure('internal error; see the server log', error), internal: true };
}
