import { ItemType } from '../../ttlv/types.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, single, State, stateOf, uidResponse } from '../managed-object.js';
import { usageLimitsOf } from '../usage-limits.js';

interface CheckRequest {
  readonly uid: string | undefined;
  readonly usageLimitsCount: bigint | undefined;
  readonly usageMask: number | undefined;
  readonly leaseTime: number | undefined;
}

/**
 * Check (KMIP 1.4 §4.10, 2.1 §6.1.7): whether the client may use the object as the request says, for each value it
 * gives:
 * - Cryptographic Usage Mask: every bit asked for is in the object's mask (an object without one is not limited);
 * - Usage Limits Count: at least that many units are left (§3.21; an object without Usage Limits is not limited);
 * - Lease Time: no longer than the object's Lease Time, the longest lease the server grants for it (§3.20; this
 *   server sets LEASE_TIME_SECONDS on every cryptographic object, server-attributes.ts; an object without one, an
 *   Opaque Object, is not limited).
 * A destroyed object may be used for nothing. A refusal empties the ID placeholder, as §4.10 says, and fails with the
 * reason of the value refused (2.1 Table 185: Incompatible Cryptographic Usage Mask, Usage Limit Exceeded; the
 * profile vectors BL-M-2 and BL-M-3 of 2.1 expect exactly that); 1.x, which has neither reason, answers Permission
 * Denied. The refusal names the value; a failed batch item carries no payload to return it in (1.4 §7.2 Table 285:
 * Response Payload "Yes, if not a failure").
 */
export const check = handler({
  operation: 'Check',
  since: '1.0',
  access: 'read-material',
  decodeRequest(payload): CheckRequest {
    return {
      uid: payload?.text('UniqueIdentifier'),
      usageLimitsCount: payload?.longInteger('UsageLimitsCount'),
      usageMask: payload?.integer('CryptographicUsageMask'),
      leaseTime: payload?.interval('LeaseTime'),
    };
  },
  async execute(request: CheckRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const refuse = (error: Error): never => {
      ctx.idPlaceholder.current = undefined;
      throw error;
    };
    const state = stateOf(object);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      refuse(errors.permissionDenied(`Check: object ${object.uid} has been destroyed`));
    }
    const mask = single(object.attributes, 'CryptographicUsageMask');
    if (
      request.usageMask !== undefined &&
      mask?.type === ItemType.Integer &&
      (mask.value & request.usageMask) !== request.usageMask
    ) {
      refuse(
        errors.incompatibleUsageMask(
          `Check: the Cryptographic Usage Mask of object ${object.uid} does not allow all the uses asked for`,
        ),
      );
    }
    const limits = usageLimitsOf(object.attributes);
    if (
      request.usageLimitsCount !== undefined &&
      limits !== undefined &&
      request.usageLimitsCount > limits.count
    ) {
      refuse(
        errors.usageLimitExceeded(
          `Check: object ${object.uid} has ${limits.count} Usage Limits units left, fewer than ${request.usageLimitsCount}`,
        ),
      );
    }
    const lease = single(object.attributes, 'LeaseTime');
    if (
      request.leaseTime !== undefined &&
      lease?.type === ItemType.Interval &&
      request.leaseTime > lease.value
    ) {
      refuse(
        errors.permissionDenied(
          `Check: the longest lease for object ${object.uid} is ${lease.value} seconds, shorter than ${request.leaseTime}`,
        ),
      );
    }
    return object.uid;
  },
  encodeResponse: uidResponse,
});
