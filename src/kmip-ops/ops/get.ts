import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import {
  loadObject,
  objectTypeOf,
  resolveUid,
  saveObject,
  single,
  State,
  stateOf,
  withAttribute,
} from '../managed-object.js';
import { objectForGet } from '../object-payloads.js';

const T = tags('ObjectType', 'UniqueIdentifier', 'Fresh');

interface GetRequest {
  readonly uid: string | undefined;
  readonly keyFormatType: number | undefined;
  readonly wrapping: boolean;
}

/**
 * Get (KMIP 1.4 §4.11): the object as registered (byte-exact), or in the requested Key Format Type. Key wrapping on
 * Get is not offered yet and is refused as such, never silently ignored.
 */
export const get = handler({
  operation: 'Get',
  since: '1.0',
  access: 'read-material',
  decodeRequest(payload): GetRequest {
    return {
      uid: payload?.text('UniqueIdentifier'),
      keyFormatType: payload?.enumeration('KeyFormatType'),
      wrapping: payload?.optional('KeyWrappingSpecification') !== undefined,
    };
  },
  async execute(request: GetRequest, ctx) {
    if (request.wrapping)
      throw errors.featureNotSupported('Key Wrapping Specification on Get is not supported yet');
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const state = stateOf(object);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      throw errors.itemNotFound(`object ${object.uid} has been destroyed; its key material is gone`);
    }
    const sensitive = single(object.attributes, 'Sensitive');
    if (sensitive?.type === ItemType.Boolean && sensitive.value) {
      // KMIP 2.1 §4.55: "the server SHALL prevent the object value being retrieved (via the Get operation) unless
      // it is wrapped by another key"; key wrapping on Get is not offered (above), so it is not served at all.
      throw errors.sensitive(`object ${object.uid} is Sensitive: its value is not served in clear`);
    }
    const objectType = objectTypeOf(object);
    const structure = await objectForGet(object, objectType, ctx, request.keyFormatType);
    const fresh = single(object.attributes, 'Fresh');
    if (fresh?.type === ItemType.Boolean && fresh.value) {
      // KMIP 2.1 §4.24: "The server SHALL change the value to False when the object is served via a Get".
      await saveObject(object, withAttribute(object.attributes, ttlv.boolean(T.Fresh, false)), ctx);
    }
    return { uid: object.uid, objectType, structure };
  },
  encodeResponse(response: { uid: string; objectType: number; structure: TtlvItem }): TtlvItem[] {
    return [
      ttlv.enumeration(T.ObjectType, response.objectType),
      ttlv.textString(T.UniqueIdentifier, response.uid),
      response.structure,
    ];
  },
});
