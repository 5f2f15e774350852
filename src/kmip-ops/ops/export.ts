import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { encodeAttributes, type Attribute } from '../../kmip/attributes.js';
import { tags } from '../../kmip/vocabulary.js';
import { markServed } from '../serving.js';
import { servedValueOrContainer } from '../pkcs12-objects.js';
import { listingOrder } from '../attribute-order.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import {
  enumAttribute,
  loadObject,
  ObjectType,
  objectTypeOf,
  resolveUid,
  single,
  State,
  stateOf,
  type ManagedObject,
} from '../managed-object.js';
import { readKeyWrappingSpecification, type KeyWrappingSpecification } from '../key-wrapping.js';
import { structureTag } from '../object-payloads.js';

const T = tags('ObjectType', 'UniqueIdentifier', 'KeyBlock', 'KeyFormatType');

interface ExportRequest {
  readonly uid: string | undefined;
  readonly keyFormatType: number | undefined;
  readonly keyWrapType: number | undefined;
  readonly wrapping: KeyWrappingSpecification | undefined;
}

interface ExportResponse {
  readonly uid: string;
  readonly objectType: number;
  readonly attributes: readonly Attribute[];
  readonly structure: TtlvItem;
}

/** Objects whose structure is a Key Block and nothing else that only the material could tell. */
const keyBlockOnly = new Set([ObjectType.SymmetricKey, ObjectType.PublicKey, ObjectType.PrivateKey]);

/**
 * The structure of a destroyed object, whose material is gone (KMIP 1.4 §4.40, 2.1 §6.1.18: "If the Managed Object
 * has been Destroyed then the key material ... SHALL not be returned"): a Key Block without a Key Value (the Key
 * Value is optional in a Key Block, 1.4 §2.1.3 Table 7, 2.1 §3.1 Table 12), with the format, algorithm and length
 * the attributes recorded. Objects whose structure needs more than that (Secret Data's type, a certificate's value)
 * cannot be described without their material: Key Value Not Present (2.1 Table 219).
 */
function destroyedStructure(object: ManagedObject, objectType: number, ctx: RequestContext): TtlvItem {
  const format = enumAttribute(object.attributes, 'KeyFormatType');
  if (!keyBlockOnly.has(objectType) || format === undefined) {
    throw errors.keyValueNotPresent(`object ${object.uid} has been destroyed; its value is gone`);
  }
  const algorithm = single(object.attributes, 'CryptographicAlgorithm');
  const length = single(object.attributes, 'CryptographicLength');
  return ttlv.structure(structureTag(objectType, ctx), [
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, format),
      ...(algorithm && length ? [algorithm, length] : []),
    ]),
  ]);
}

/**
 * Export (KMIP 1.4 §4.40, 2.0 and 2.1 §6.1.18): the object as Get gives it, "in the same manner as the Get operation"
 * (the same Key Format Type conversions, PKCS#12 included; the same key wrapping when asked, key-wrapping.ts; a Sensitive object's value
 * served only wrapped; Fresh turns False), together with all of its attributes in the
 * request's version's form (1.x Attribute structures, 2.x one Attributes structure). The Unique Identifier becomes
 * the ID placeholder ("The server SHALL copy the Unique Identifier returned by this operations into the ID
 * Placeholder variable"). It hands out key material, so it needs read access to key material.
 */
export const exportObject = handler({
  operation: 'Export',
  since: '1.4',
  access: 'read-material',
  decodeRequest(payload): ExportRequest {
    return {
      uid: payload?.text('UniqueIdentifier'),
      keyFormatType: payload?.enumeration('KeyFormatType'),
      keyWrapType: payload?.enumeration('KeyWrapType'),
      wrapping: readKeyWrappingSpecification(payload),
    };
  },
  async execute(request: ExportRequest, ctx): Promise<ExportResponse> {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const objectType = objectTypeOf(object);
    const state = stateOf(object);
    const destroyed = state === State.Destroyed || state === State.DestroyedCompromised;
    const { structure, resealed } = destroyed
      ? { structure: destroyedStructure(object, objectType, ctx), resealed: undefined }
      : await servedValueOrContainer(object, objectType, ctx, {
          format: request.keyFormatType,
          wrapping: request.wrapping,
          keyWrapType: request.keyWrapType,
        });
    // Export serves the object as Get does (Fresh turns False); the answer shows the attributes as they were.
    if (!destroyed) await markServed(object, ctx, resealed);
    ctx.idPlaceholder.current = object.uid;
    return {
      uid: object.uid,
      objectType,
      attributes: listingOrder(object.attributes, ctx.version),
      structure,
    };
  },
  encodeResponse(response: ExportResponse, ctx): TtlvItem[] {
    return [
      ttlv.enumeration(T.ObjectType, response.objectType),
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ...encodeAttributes(response.attributes, ctx.version),
      response.structure,
    ];
  },
});
