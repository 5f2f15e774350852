import type { TtlvItem } from '../../ttlv/types.js';
import { sameEncoding } from '../../ttlv/encode.js';
import { attributeKey, attributeName, type Attribute } from '../../kmip/attributes.js';
import { attributeEditResponse, checkWritable, oneAttribute } from '../attribute-references.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, saveObject } from '../managed-object.js';
import { isMultiValued } from '../template.js';
import { clientUsageLimits } from '../usage-limits.js';

interface ModifyRequest {
  readonly uid: string | undefined;
  readonly attribute: Attribute;
  /** 1.x: the instance by index. */
  readonly index: number;
  /** 2.x: the instance by its current value. */
  readonly current: Attribute | undefined;
}

/** Modify Attribute (KMIP 1.4 §4.15, 2.1 §6.1.32): replaces one existing instance. */
export const modifyAttribute = handler({
  operation: 'ModifyAttribute',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload, ctx): ModifyRequest {
    if (!payload) throw errors.invalidField('Modify Attribute needs a request payload');
    const v2 = ctx.version.startsWith('2.');
    const field = v2 ? payload.requiredStruct('NewAttribute') : payload.requiredStruct('Attribute');
    const current = v2 ? payload.struct('CurrentAttribute') : undefined;
    return {
      uid: payload.text('UniqueIdentifier'),
      attribute: oneAttribute(field, ctx),
      index: v2 ? 0 : (field.integer('AttributeIndex') ?? 0),
      current: current ? oneAttribute(current, ctx) : undefined,
    };
  },
  async execute(request: ModifyRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    checkWritable(request.attribute, object, ctx);
    const key = attributeKey(request.attribute);
    const name = attributeName(request.attribute, ctx.version) ?? key;
    const positions = object.attributes.flatMap((a, i) => (attributeKey(a) === key ? [i] : []));
    let target: number | undefined;
    if (request.current) {
      target = positions.find((i) => {
        const a = object.attributes[i];
        return (
          a !== undefined && request.current !== undefined && sameEncoding(a.value, request.current.value)
        );
      });
    } else {
      if (positions.length > 1 && ctx.version.startsWith('2.') && isMultiValued(request.attribute)) {
        throw errors.invalidField(
          `${name} has several instances: name the one to change with Current Attribute`,
        );
      }
      target = positions[request.index];
    }
    if (target === undefined) {
      throw positions.length === 0
        ? errors.attributeNotFound(`the object has no ${name} attribute`)
        : errors.indexOutOfBounds(`the object has no such instance of ${name}`);
    }
    const attribute = clientUsageLimits(request.attribute, object);
    const attributes = object.attributes.map((a, i) => (i === target ? attribute : a));
    await saveObject(object, attributes, ctx);
    return { uid: object.uid, attribute, index: positions.indexOf(target) };
  },
  encodeResponse(response: { uid: string; attribute: Attribute; index: number }, ctx): TtlvItem[] {
    return attributeEditResponse(response, ctx);
  },
});
