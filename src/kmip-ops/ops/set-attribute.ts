import { attributeKey, attributeName, type Attribute } from '../../kmip/attributes.js';
import { checkWritable, oneAttribute } from '../attribute-references.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, saveObject, uidResponse } from '../managed-object.js';
import { isMultiValued } from '../template.js';
import { clientUsageLimits } from '../usage-limits.js';

/** Set Attribute (KMIP 2.0 §6.1.49): sets a single-valued attribute, creating or replacing it. */
export const setAttribute = handler({
  operation: 'SetAttribute',
  since: '2.0',
  access: 'manage',
  decodeRequest(payload, ctx) {
    if (!payload) throw errors.invalidField('Set Attribute needs a request payload');
    return {
      uid: payload.text('UniqueIdentifier'),
      attribute: oneAttribute(payload.requiredStruct('NewAttribute'), ctx),
    };
  },
  async execute(request: { uid: string | undefined; attribute: Attribute }, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    checkWritable(request.attribute, object, ctx);
    if (isMultiValued(request.attribute)) {
      const name = attributeName(request.attribute, ctx.version) ?? attributeKey(request.attribute);
      throw errors.invalidField(`${name} may have several instances: use Add Attribute or Modify Attribute`);
    }
    const key = attributeKey(request.attribute);
    await saveObject(
      object,
      [
        ...object.attributes.filter((a) => attributeKey(a) !== key),
        clientUsageLimits(request.attribute, object),
      ],
      ctx,
    );
    return object.uid;
  },
  encodeResponse: uidResponse,
});
