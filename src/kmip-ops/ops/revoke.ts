import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import {
  loadObject,
  nowSeconds,
  resolveUid,
  saveObject,
  State,
  stateOf,
  withAttribute,
  uidResponse,
} from '../managed-object.js';

const T = tags('State', 'DeactivationDate', 'CompromiseDate', 'CompromiseOccurrenceDate');
const Reason = enumValues('RevocationReasonCode', 'KeyCompromise', 'CACompromise');

interface RevokeRequest {
  readonly uid: string | undefined;
  readonly reason: TtlvItem;
  readonly code: number;
  readonly compromiseOccurrence: bigint | undefined;
}

/**
 * Revoke (KMIP 1.4 §4.20): a compromise reason moves the object to Compromised (from Pre-Active, Active or
 * Deactivated), any other reason moves an Active or Pre-Active object to Deactivated.
 */
export const revoke = handler({
  operation: 'Revoke',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload): RevokeRequest {
    if (!payload) throw errors.invalidField('Revoke needs a request payload');
    const reason = payload.requiredStruct('RevocationReason');
    return {
      uid: payload.text('UniqueIdentifier'),
      reason: reason.item,
      code: reason.requiredEnumeration('RevocationReasonCode'),
      compromiseOccurrence: payload.dateTime('CompromiseOccurrenceDate'),
    };
  },
  async execute(request: RevokeRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const state = stateOf(object);
    const now = nowSeconds(ctx);
    const compromise = request.code === Reason.KeyCompromise || request.code === Reason.CACompromise;
    let attributes = withAttribute(object.attributes, request.reason);
    if (compromise) {
      if (state !== State.PreActive && state !== State.Active && state !== State.Deactivated) {
        throw errors.wrongState(`object ${object.uid} cannot be marked compromised in its current state`);
      }
      attributes = withAttribute(attributes, ttlv.enumeration(T.State, State.Compromised));
      attributes = withAttribute(attributes, ttlv.dateTime(T.CompromiseDate, now));
      attributes = withAttribute(
        attributes,
        ttlv.dateTime(T.CompromiseOccurrenceDate, request.compromiseOccurrence ?? now),
      );
    } else {
      if (state !== State.Active && state !== State.PreActive) {
        throw errors.wrongState(`object ${object.uid} is neither Active nor Pre-Active`);
      }
      attributes = withAttribute(attributes, ttlv.enumeration(T.State, State.Deactivated));
      attributes = withAttribute(attributes, ttlv.dateTime(T.DeactivationDate, now));
    }
    await saveObject(object, attributes, ctx);
    return object.uid;
  },
  encodeResponse: uidResponse,
});
