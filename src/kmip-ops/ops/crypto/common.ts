/**
 * What the cryptographic operations share: reading the key, its parameters and the part of a multi-part operation
 * (KMIP 1.4 §2.1.15-§2.1.17, src/kmip-ops/crypto/streams.ts) from a request, and the optional Data of a part.
 */
import type { Fields } from '../../../kmip/fields.js';
import type { KeyRef, MacSpec } from '../../../hsm/hsm.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import type { RequestContext } from '../../context.js';
import { errors } from '../../errors.js';
import {
  loadObject,
  ObjectType,
  objectTypeOf,
  resolveUid,
  type ManagedObject,
} from '../../managed-object.js';
import {
  cipherPlan,
  cryptoParameters,
  isHmac,
  macPlan,
  type CipherPlan,
  type CryptoParameters,
} from '../../crypto/parameters.js';
import { versionAtLeast } from '../../../kmip/registry.js';
import { checkKeyUse, type UseRule } from '../../crypto/permits.js';
import { allocateUsage, unitsFor, usageLimitsOf, UsageLimitsUnit } from '../../usage-limits.js';
import { readStreamPart, type StreamPart } from '../../crypto/streams.js';

export interface KeyedRequest {
  readonly uid: string | undefined;
  readonly parameters: Fields | undefined;
  /** The part of a multi-part operation, undefined for a single-part request. */
  readonly part: StreamPart | undefined;
}

export function readKeyedRequest(payload: Fields | undefined, operation: string): KeyedRequest {
  return {
    uid: payload?.text('UniqueIdentifier'),
    parameters: payload?.struct('CryptographicParameters'),
    part: readStreamPart(payload, operation),
  };
}

/** Data: required for a single-part request, optional in a part of a multi-part one ("No for multi-part"). */
export function partData(payload: Fields | undefined, request: KeyedRequest, operation: string): Uint8Array {
  return request.part === undefined
    ? requiredBytes(payload, 'Data', operation)
    : (payload?.bytes('Data') ?? new Uint8Array(0));
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
    object = await allocateUsage(
      object.uid,
      (now) => unitsFor(now, protecting?.length ?? 0),
      ctx,
      (why) => errors.usageExhausted(`${rule.operation}: ${why}`),
    );
  }
  return { object, parameters };
}

export const secretKeys = [ObjectType.SymmetricKey] as const;
export const publicKeys = [ObjectType.PublicKey, ObjectType.Certificate] as const;
export const privateKeys = [ObjectType.PrivateKey] as const;

/**
 * Charges a later part of a multi-part protecting operation to the key's Usage Limits, when they count bytes (the
 * first part was charged by usableKey; a limit in objects counts the operation once): without this, parts after
 * the first would protect any amount of data under a byte limit.
 */
export function chargeLaterParts(
  rule: UseRule,
): (uid: string, ctx: RequestContext, bytes: number) => Promise<void> {
  return async (uid, ctx, bytes) => {
    await allocateUsage(
      uid,
      (limits) => (limits.unit === UsageLimitsUnit.Byte ? BigInt(bytes) : 0n),
      ctx,
      (why) => errors.usageExhausted(`${rule.operation}: ${why}`),
    );
  };
}

/**
 * cipherPlan (crypto/parameters.ts) in the request's version: the Authenticated Encryption Tag and Additional Data
 * fields came with KMIP 1.4 (§2.1.22, §2.1.23), so an older message cannot carry GCM's tag and GCM is refused there.
 */
export function cipherPlanIn(parameters: CryptoParameters, ctx: RequestContext): CipherPlan {
  const plan = cipherPlan(parameters);
  if (plan.kind === 'block' && plan.mode === 'GCM' && !versionAtLeast(ctx.version, '1.4')) {
    throw errors.invalidField(
      'GCM needs KMIP 1.4 or later, whose messages carry the Authenticated Encryption Tag',
    );
  }
  return plan;
}

/**
 * The key of MAC or MAC Verify, checked as usableKey does, with its MAC scheme: HMAC runs with the key as a
 * generic secret, CMAC with it as the block cipher key it is.
 */
export async function macKey(
  request: KeyedRequest,
  rule: UseRule,
  ctx: RequestContext,
  protecting?: Uint8Array,
): Promise<{ uid: string; ref: KeyRef; spec: MacSpec }> {
  const { object, parameters } = await usableKey(request, rule, secretKeys, ctx, protecting);
  const spec = macPlan(parameters);
  return { uid: object.uid, ref: keyRefFor(object, isHmac(spec) ? 'hmac' : 'cipher', ctx), spec };
}
