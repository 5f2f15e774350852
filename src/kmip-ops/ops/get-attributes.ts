import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { attributeKey, encodeAttributes, type Attribute } from '../../kmip/attributes.js';
import { tags } from '../../kmip/vocabulary.js';
import { keyOfName, keyOfReference } from '../attribute-references.js';
import { listingOrder } from '../attribute-order.js';
import { handler } from '../context.js';
import { loadObject, resolveUid } from '../managed-object.js';

const T = tags('UniqueIdentifier');

/**
 * Get Attributes (KMIP 1.4 §4.12, 2.1 §6.1.23): the named attributes, or all of them; only those the request's
 * version defines (a 1.0 client never sees a 2.x attribute).
 */
export const getAttributes = handler({
  operation: 'GetAttributes',
  since: '1.0',
  access: 'read-metadata',
  decodeRequest(payload, ctx) {
    const keys = ctx.version.startsWith('2.')
      ? (payload?.all('AttributeReference') ?? []).map((r) => keyOfReference(r, ctx.version))
      : (payload?.texts('AttributeName') ?? []).map((n) => keyOfName(n, ctx.version));
    return { uid: payload?.text('UniqueIdentifier'), keys };
  },
  async execute(request: { uid: string | undefined; keys: string[] }, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    // Named attributes come back in the order the request names them (each with all its instances), as the
    // conformance vectors expect; with no names, every attribute in the listing order (attribute-order.ts).
    const attributes =
      request.keys.length === 0
        ? listingOrder(object.attributes, ctx.version)
        : [...new Set(request.keys)].flatMap((key) =>
            object.attributes.filter((a) => attributeKey(a) === key),
          );
    return { uid: object.uid, attributes };
  },
  encodeResponse(response: { uid: string; attributes: readonly Attribute[] }, ctx): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ...encodeAttributes(response.attributes, ctx.version),
    ];
  },
});
