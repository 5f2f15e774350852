import type { TtlvItem } from '../../ttlv/types.js';
import { sameEncoding } from '../../ttlv/encode.js';
import { tag } from '../../kmip/vocabulary.js';
import { attributeKey, attributeName, type Attribute } from '../../kmip/attributes.js';
import { attributeEditResponse, checkWritable, oneAttribute } from '../attribute-references.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { instancesOf, loadObject, resolveUid, saveObject } from '../managed-object.js';
import { isMultiValued } from '../template.js';
import { clientUsageLimits } from '../usage-limits.js';

/** attributeKey() of Name. */
const nameKey = `#${tag('Name')}`;

/**
 * Add Attribute (KMIP 1.4 §4.14, 2.1 §6.1.3): a new instance; a second instance of a single-valued attribute is
 * refused. Several in one batch (vSphere adds three custom attributes at once) each see the previous ones.
 */
export const addAttribute = handler({
  operation: 'AddAttribute',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload, ctx) {
    if (!payload) throw errors.invalidField('Add Attribute needs a request payload');
    const field = ctx.version.startsWith('2.')
      ? payload.requiredStruct('NewAttribute')
      : payload.requiredStruct('Attribute');
    if (!ctx.version.startsWith('2.') && field.integer('AttributeIndex') !== undefined) {
      throw errors.invalidField(
        'Add Attribute must not give an Attribute Index: the server assigns it (KMIP 1.4 section 4.14)',
      );
    }
    return { uid: payload.text('UniqueIdentifier'), attribute: oneAttribute(field, ctx) };
  },
  async execute(request: { uid: string | undefined; attribute: Attribute }, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    checkWritable(request.attribute, object, ctx, { adding: true });
    const attribute = clientUsageLimits(request.attribute, object);
    const existing = instancesOf(object.attributes, attributeKey(attribute));
    if (existing.length > 0 && !isMultiValued(attribute)) {
      const name = attributeName(attribute, ctx.version) ?? attributeKey(attribute);
      throw errors.attributeSingleValued(`${name} already exists and may have one instance only`);
    }
    // A Name the object already has, added again, is refused as 2.1 does (Non Unique Name Attribute, the BL-M-8-21
    // vector): it would only make the object's names ambiguous. Names shared between objects stay allowed.
    if (attributeKey(attribute) === nameKey && existing.some((a) => sameEncoding(a.value, attribute.value))) {
      throw errors.nonUniqueName(`object ${object.uid} already has this Name`);
    }
    await saveObject(object, [...object.attributes, attribute], ctx);
    return { uid: object.uid, attribute, index: existing.length };
  },
  encodeResponse(response: { uid: string; attribute: Attribute; index: number }, ctx): TtlvItem[] {
    return attributeEditResponse(response, ctx);
  },
});
