import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import { errors } from '../errors.js';
import { loadObject, objectTypeOf, resolveUid, State, stateOf } from '../managed-object.js';
import { readKeyWrappingSpecification, type KeyWrappingSpecification } from '../key-wrapping.js';
import { markServed } from '../serving.js';
import { servedValueOrContainer } from '../pkcs12-objects.js';

const T = tags('ObjectType', 'UniqueIdentifier');

interface GetRequest {
  readonly uid: string | undefined;
  readonly keyFormatType: number | undefined;
  readonly keyWrapType: number | undefined;
  readonly wrapping: KeyWrappingSpecification | undefined;
}

/**
 * Get (KMIP 1.4 §4.11): the object as registered (byte-exact), or in the requested Key Format Type, and wrapped when
 * the request has a Key Wrapping Specification (key-wrapping.ts); a key registered wrapped is served in clear for Key
 * Wrap Type Not Wrapped. A Sensitive object is served only wrapped (1.4 §3.48). A private key asked for as PKCS#12
 * comes in a PKCS#12 container with its certificate chain, under the password its PKCS#12 Password Link names.
 */
export const get = handler({
  operation: 'Get',
  since: '1.0',
  access: 'read-material',
  decodeRequest(payload): GetRequest {
    return {
      uid: payload?.text('UniqueIdentifier'),
      keyFormatType: payload?.enumeration('KeyFormatType'),
      keyWrapType: payload?.enumeration('KeyWrapType'),
      wrapping: readKeyWrappingSpecification(payload),
    };
  },
  async execute(request: GetRequest, ctx) {
    const object = await loadObject(resolveUid(request.uid, ctx), ctx);
    const state = stateOf(object);
    if (state === State.Destroyed || state === State.DestroyedCompromised) {
      throw errors.objectDestroyed(`object ${object.uid} has been destroyed; its key material is gone`);
    }
    const objectType = objectTypeOf(object);
    const { structure, resealed } = await servedValueOrContainer(object, objectType, ctx, {
      format: request.keyFormatType,
      wrapping: request.wrapping,
      keyWrapType: request.keyWrapType,
    });
    await markServed(object, ctx, resealed);
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
