import type { TtlvItem } from '../../ttlv/types.js';
import { sameEncoding } from '../../ttlv/encode.js';
import { attributeKey, type Attribute } from '../../kmip/attributes.js';
import {
  attributeEditResponse,
  checkWritable,
  keyOfName,
  keyOfReference,
  oneAttribute,
} from '../attribute-references.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, resolveUid, saveObject } from '../managed-object.js';
import { checkUsageLimitsDeletable } from '../usage-limits.js';

interface DeleteRequest {
  readonly uid: string | undefined;
  readonly key: string;
  readonly index: number;
  readonly current: Attribute | undefined;
}

/** Delete Attribute (KMIP 1.4 §4.16, 2.1 §6.1.14): removes one instance (1.x by index, 2.x by value or reference). */
export const deleteAttribute = handler({
  operation: 'DeleteAttribute',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload, ctx): DeleteRequest {
    if (!payload) throw errors.invalidField('Delete Attribute needs a request payload');
    const uid = payload.text('UniqueIdentifier');
    if (!ctx.version.startsWith('2.')) {
      return {
        uid,
        key: keyOfName(payload.requiredText('AttributeName'), ctx.version),
        index: payload.integer('AttributeIndex') ?? 0,
        current: undefined,
      };
    }
    const current = payload.struct('CurrentAttribute');
    if (current) {
      const attribute = oneAttribute(current, ctx);
      return { uid, key: attributeKey(attribute), index: 0, current: attribute };
    }
    return {
      uid,
      key: keyOfReference(payload.required('AttributeReference'), ctx.version),
      index: 0,
      current: undefined,
    };
  },
  async execute(request: DeleteRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const positions = object.attributes.flatMap((a, i) => (attributeKey(a) === request.key ? [i] : []));
    const target = request.current
      ? positions.find((i) => {
          const a = object.attributes[i];
          return (
            a !== undefined && request.current !== undefined && sameEncoding(a.value, request.current.value)
          );
        })
      : positions[request.index];
    const deleted = target === undefined ? undefined : object.attributes[target];
    if (target === undefined || deleted === undefined) {
      throw positions.length === 0
        ? errors.attributeNotFound('the object has no such attribute')
        : errors.indexOutOfBounds('the object has no such instance of the attribute');
    }
    checkWritable(deleted, object, ctx);
    checkUsageLimitsDeletable(deleted, object);
    await saveObject(
      object,
      object.attributes.filter((_, i) => i !== target),
      ctx,
    );
    return { uid: object.uid, deleted, index: positions.indexOf(target) };
  },
  encodeResponse(response: { uid: string; deleted: Attribute; index: number }, ctx): TtlvItem[] {
    return attributeEditResponse(
      { uid: response.uid, attribute: response.deleted, index: response.index },
      ctx,
    );
  },
});
