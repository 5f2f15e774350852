import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, single, State, stateOf, uidRequest } from '../managed-object.js';

const T = tags('UniqueIdentifier', 'LeaseTime', 'LastChangeDate');

interface LeaseResponse {
  readonly uid: string;
  readonly leaseTime: number;
  readonly lastChangeDate: bigint;
}

/**
 * Obtain Lease (KMIP 1.4 §4.17, 2.1 §6.1.35): the lease the client may use the object for, and the object's Last
 * Change Date so that it can tell whether what it cached is stale. The lease is the object's Lease Time (§3.20:
 * "the maximum Lease Time it is able to serve"; this server sets LEASE_TIME_SECONDS on every cryptographic object,
 * server-attributes.ts). An object without one (an Opaque Object) gets 0: "no lease interval is effective, and the
 * client MAY use the object without any lease time limit". A destroyed object gets no lease
 * (1.4 Table 344: "a new lease is not permitted to be issued": Permission Denied).
 */
export const obtainLease = handler({
  operation: 'ObtainLease',
  since: '1.0',
  access: 'read-material',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx): Promise<LeaseResponse> {
    const object = await loadObject(resolveUid(uid, ctx), ctx);
    const state = stateOf(object);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      throw errors.permissionDenied(`object ${object.uid} has been destroyed: no lease is issued for it`);
    }
    const lease = single(object.attributes, 'LeaseTime');
    const changed = single(object.attributes, 'LastChangeDate') ?? single(object.attributes, 'InitialDate');
    return {
      uid: object.uid,
      leaseTime: lease?.type === ItemType.Interval ? lease.value : 0,
      lastChangeDate: changed?.type === ItemType.DateTime ? changed.value : 0n,
    };
  },
  encodeResponse(response: LeaseResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ttlv.interval(T.LeaseTime, response.leaseTime),
      ttlv.dateTime(T.LastChangeDate, response.lastChangeDate),
    ];
  },
});
