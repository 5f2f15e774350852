import { ttlv } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { keyRefIds } from '../crypto/key-ref.js';
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

const T = tags('State', 'DestroyDate');

/**
 * Destroy (KMIP 1.4 §4.21, Table 348): the key material is deleted; the object's metadata stays, in state Destroyed
 * (or Destroyed Compromised), so that its history remains visible. An Active object must be revoked first.
 */
export const destroy = handler({
  operation: 'Destroy',
  since: '1.0',
  access: 'manage',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx) {
    const object = await loadObject(resolveUid(uid, ctx), ctx);
    const state = stateOf(object);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      throw errors.wrongStateForDestroy(`object ${object.uid} has already been destroyed`);
    }
    if (state === State.Active) {
      throw errors.wrongStateForDestroy(`object ${object.uid} is Active: revoke it before destroying it`);
    }
    const next = state === State.Compromised ? State.DestroyedCompromised : State.Destroyed;
    let attributes = withAttribute(object.attributes, ttlv.enumeration(T.State, next));
    attributes = withAttribute(attributes, ttlv.dateTime(T.DestroyDate, nowSeconds(ctx)));
    await saveObject(object, attributes, ctx, { dropMaterial: true });
    // The token may hold the key for cryptographic calls: the material is gone, so is that.
    for (const id of keyRefIds(object.uid)) ctx.keys.hsm.forgetKey(id);
    return object.uid;
  },
  encodeResponse: uidResponse,
});
