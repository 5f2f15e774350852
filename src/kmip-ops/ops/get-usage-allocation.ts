import { ItemType } from '../../ttlv/types.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import {
  loadObject,
  nowSeconds,
  ObjectType,
  objectTypeOf,
  resolveUid,
  single,
  State,
  stateOf,
  uidResponse,
} from '../managed-object.js';
import { allocateUsage, usageLimitsOf } from '../usage-limits.js';

interface AllocationRequest {
  readonly uid: string | undefined;
  readonly units: bigint;
}

/** Objects that apply protection: symmetric keys (encrypt, MAC), private keys (sign), public keys (encrypt). */
const protectingTypes: readonly number[] = [
  ObjectType.SymmetricKey,
  ObjectType.PrivateKey,
  ObjectType.PublicKey,
];

/**
 * Get Usage Allocation (KMIP 1.4 §4.18, 2.1 §6.1.23): takes the requested units out of the key's Usage Limits
 * Count (§3.21) for a client that protects data with the key itself; "the server SHALL assume that the entire
 * allocated amount is going to be consumed". Only for a key with Usage Limits that may apply protection now:
 * Active, before its Protect Stop Date ("after the Activation Date and before the Protect Stop Date"). Errors as
 * 1.4 Table 345 and 2.1 Table 234 name them.
 */
export const getUsageAllocation = handler({
  operation: 'GetUsageAllocation',
  since: '1.0',
  access: 'read-material',
  decodeRequest(payload): AllocationRequest {
    const units = payload?.longInteger('UsageLimitsCount');
    // 1.4 Table 345: "No Usage Limits Count is specified": Invalid Message.
    if (units === undefined) throw errors.invalidMessage('Get Usage Allocation needs a Usage Limits Count');
    if (units <= 0n) throw errors.invalidField('the Usage Limits Count to allocate must be positive');
    return { uid: payload?.text('UniqueIdentifier'), units };
  },
  async execute(request: AllocationRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    if (!protectingTypes.includes(objectTypeOf(object))) {
      throw errors.notProtecting(`object ${object.uid} is not a key that applies cryptographic protection`);
    }
    const limits = usageLimitsOf(object.attributes);
    if (limits === undefined) {
      throw errors.noUsageLimits(`object ${object.uid} has no Usage Limits to allocate from`);
    }
    if (stateOf(object) !== State.Active) {
      throw errors.notProtectingNow(`object ${object.uid} is not Active: it applies no protection now`);
    }
    const protectStop = single(object.attributes, 'ProtectStopDate');
    if (protectStop?.type === ItemType.DateTime && protectStop.value <= nowSeconds(ctx)) {
      throw errors.notProtectingNow(`object ${object.uid} is past its Protect Stop Date`);
    }
    await allocateUsage(object.uid, () => request.units, ctx, errors.usageLimitExceeded);
    return object.uid;
  },
  encodeResponse: uidResponse,
});
