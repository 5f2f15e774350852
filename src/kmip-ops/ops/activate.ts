import { ttlv } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
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
  uidRequest,
} from '../managed-object.js';

const T = tags('State', 'ActivationDate');

/**
 * Activate (KMIP 1.4 §4.19, 2.1 §6.1.2): Pre-Active -> Active, "setting its Activation Date to the current date and
 * time", also over a future Activation Date the object had.
 */
export const activate = handler({
  operation: 'Activate',
  since: '1.0',
  access: 'manage',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx) {
    const object = await loadObject(resolveUid(uid, ctx), ctx);
    if (stateOf(object) !== State.PreActive)
      throw errors.wrongState(`object ${object.uid} is not Pre-Active`);
    let attributes = withAttribute(object.attributes, ttlv.enumeration(T.State, State.Active));
    attributes = withAttribute(attributes, ttlv.dateTime(T.ActivationDate, nowSeconds(ctx)));
    await saveObject(object, attributes, ctx);
    return object.uid;
  },
  encodeResponse: uidResponse,
});
