import { attributeKey, attributeName, type Attribute } from '../../kmip/attributes.js';
import { checkWritable, oneAttribute } from '../attribute-references.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, saveObject, uidResponse } from '../managed-object.js';
import { clientUsageLimits } from '../usage-limits.js';

/**
 * Set Attribute (KMIP 2.1 §6.1.51): "If the object did not have any instances of the attribute, one is created. If
 * the object had exactly one instance, then it is modified. If it has more than one instance an error is raised"
 * (Multi Valued Attribute, §6.1.51.1). That holds for attributes that may have several instances too (TC-SETATTR-2
 * and -3 of the 2.0 test cases set a custom attribute, then add a second instance and are refused).
 */
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
    const key = attributeKey(request.attribute);
    const instances = object.attributes.filter((a) => attributeKey(a) === key).length;
    if (instances > 1) {
      const name = attributeName(request.attribute, ctx.version) ?? key;
      throw errors.multiValuedAttribute(
        `the object has ${String(instances)} instances of ${name}: Set Attribute changes only one; use Modify Attribute with the instance's current value, or Delete Attribute`,
      );
    }
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
