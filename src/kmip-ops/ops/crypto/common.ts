/**
 * What the cryptographic operations share: reading the key and its parameters from a request, and refusing the
 * multi-part (streaming) form, which this server does not offer yet (KMIP 1.4 §2.1.15-2.1.17 Correlation Value,
 * Init Indicator, Final Indicator) rather than silently treating a part as the whole.
 */
import type { Fields } from '../../../kmip/fields.js';
import type { RequestContext } from '../../context.js';
import { errors } from '../../errors.js';
import {
  loadObject,
  ObjectType,
  objectTypeOf,
  resolveUid,
  type ManagedObject,
} from '../../managed-object.js';
import { cryptoParameters, type CryptoParameters } from '../../crypto/parameters.js';
import { checkKeyUse, type UseRule } from '../../crypto/permits.js';
import { allocateUsage, unitsFor, usageLimitsOf } from '../../usage-limits.js';

export interface KeyedRequest {
  readonly uid: string | undefined;
  readonly parameters: Fields | undefined;
}

export function readKeyedRequest(payload: Fields | undefined, operation: string): KeyedRequest {
  if (
    payload?.optional('CorrelationValue') !== undefined ||
    payload?.optional('InitIndicator') !== undefined ||
    payload?.optional('FinalIndicator') !== undefined
  ) {
    throw errors.featureNotSupported(
      `${operation} in several parts (Correlation Value, Init/Final Indicator) is not supported yet`,
    );
  }
  return { uid: payload?.text('UniqueIdentifier'), parameters: payload?.struct('CryptographicParameters') };
}

/** A required Byte String field, with a clear refusal when it is missing. */
export function requiredBytes(payload: Fields | undefined, name: string, operation: string): Uint8Array {
  const value = payload?.bytes(name);
  if (value === undefined) throw errors.invalidField(`${operation} needs ${name}`);
  return value;
}

/**
 * Loads the key, checks its type, state, dates and usage mask, and merges its Cryptographic Parameters. An
 * operation applying protection names the data it protects: when the key has Usage Limits (KMIP 1.4 §3.21), the
 * units it uses are drawn from the Usage Limits Count before the token runs, and the operation is refused when
 * not enough are left (src/kmip-ops/usage-limits.ts).
 */
export async function usableKey(
  request: KeyedRequest,
  rule: UseRule,
  objectTypes: readonly number[],
  ctx: RequestContext,
  protecting?: Uint8Array,
): Promise<{ object: ManagedObject; parameters: CryptoParameters }> {
  let object = await loadObject(resolveUid(request.uid, ctx), ctx);
  if (!objectTypes.includes(objectTypeOf(object))) {
    throw errors.invalidField(`${rule.operation}: object ${object.uid} is not a key this operation can use`);
  }
  checkKeyUse(object, rule, ctx);
  const parameters = cryptoParameters(request.parameters, object, ctx);
  const limits = rule.kind === 'protect' ? usageLimitsOf(object.attributes) : undefined;
  if (limits !== undefined) {
    const units = unitsFor(limits, protecting?.length ?? 0);
    object = await allocateUsage(object, limits, units, ctx, (why) =>
      errors.usageExhausted(`${rule.operation}: ${why}`),
    );
  }
  return { object, parameters };
}

export const secretKeys = [ObjectType.SymmetricKey] as const;
export const publicKeys = [ObjectType.PublicKey, ObjectType.Certificate] as const;
export const privateKeys = [ObjectType.PrivateKey] as const;
