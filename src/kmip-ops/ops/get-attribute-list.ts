import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { attributeKey, attributeName, encodeAttribute2x, type Attribute } from '../../kmip/attributes.js';
import { tags } from '../../kmip/vocabulary.js';
import { listingOrder } from '../attribute-order.js';
import { referenceOf } from '../attribute-references.js';
import { handler } from '../context.js';
import { loadObject, resolveUid, uidRequest } from '../managed-object.js';

const T = tags('UniqueIdentifier', 'AttributeName');

/** Get Attribute List (KMIP 1.4 §4.13, 2.1 §6.1.22): the names (2.x: references) of the object's attributes. */
export const getAttributeList = handler({
  operation: 'GetAttributeList',
  since: '1.0',
  access: 'read-metadata',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx) {
    const object = await loadObject(resolveUid(uid, ctx), ctx);
    const seen = new Set<string>();
    const unique = object.attributes.filter((a) => {
      const key = attributeKey(a);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
    return { uid: object.uid, attributes: unique };
  },
  encodeResponse(response: { uid: string; attributes: readonly Attribute[] }, ctx): TtlvItem[] {
    const out: TtlvItem[] = [ttlv.textString(T.UniqueIdentifier, response.uid)];
    for (const attribute of listingOrder(response.attributes, ctx.version)) {
      if (ctx.version.startsWith('2.')) {
        if (encodeAttribute2x(attribute, ctx.version)) out.push(referenceOf(attribute));
      } else {
        const name = attributeName(attribute, ctx.version);
        if (name !== undefined) out.push(ttlv.textString(T.AttributeName, name));
      }
    }
    return out;
  },
});
