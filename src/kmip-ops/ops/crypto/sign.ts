import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import type { Fields } from '../../../kmip/fields.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { signaturePlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { chargeLaterParts, privateKeys, readKeyedRequest, usableKey, type KeyedRequest } from './common.js';

const T = tags('UniqueIdentifier', 'SignatureData', 'CorrelationValue');

export interface SignedData {
  /** The message, or the digest of it the client made (Digested Data, KMIP 1.4 §4.31). */
  readonly data: Uint8Array;
  readonly prehashed: boolean;
}

/** Data or Digested Data, exactly one of them (or neither, in a part of a multi-part operation). */
export function readSignedData(
  payload: Fields | undefined,
  request: KeyedRequest,
  operation: string,
): SignedData {
  const data = payload?.bytes('Data');
  const digested = payload?.bytes('DigestedData');
  if (data !== undefined && digested !== undefined) {
    throw errors.invalidField(`${operation} takes Data or Digested Data, not both`);
  }
  if (digested !== undefined) {
    if (request.part !== undefined)
      throw errors.invalidField(`${operation} takes Digested Data in one part only`);
    return { data: digested, prehashed: true };
  }
  if (data === undefined && request.part === undefined) {
    throw errors.invalidField(`${operation} needs either Data or Digested Data`);
  }
  return { data: data ?? new Uint8Array(0), prehashed: false };
}

interface SignResponse {
  readonly uid: string;
  readonly signature: Uint8Array | undefined;
  readonly correlation: Uint8Array | undefined;
}

const rule = { operation: 'Sign', kind: 'protect', usage: Usage.Sign } as const;

/**
 * Sign (KMIP 1.4 §4.31, 2.1 §6.1.52) inside the token, with a private key: RSA PKCS#1 v1.5 and PSS, ECDSA and DSA
 * (DER signatures), over Data or a client-made digest (Digested Data); RSA with a hash also in parts.
 */
export const sign = handler({
  operation: 'Sign',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    const keyed = readKeyedRequest(payload, 'Sign');
    return { ...keyed, ...readSignedData(payload, keyed, 'Sign') };
  },
  async execute(request: KeyedRequest & SignedData, ctx): Promise<SignResponse> {
    if (request.part !== undefined) {
      const step = await streamStep(
        request.part,
        'Sign',
        ctx,
        async () => {
          const { object, parameters } = await usableKey(request, rule, privateKeys, ctx, request.data);
          const spec = signaturePlan(parameters, false);
          return {
            uid: object.uid,
            key: keyRefFor(object, 'asymmetric', ctx),
            operation: { kind: 'sign', spec },
            charge: chargeLaterParts(rule),
          };
        },
        request.data,
        {},
      );
      return { uid: step.uid ?? '', signature: step.result?.data, correlation: step.correlation };
    }
    const { object, parameters } = await usableKey(request, rule, privateKeys, ctx, request.data);
    const spec = signaturePlan(parameters, request.prehashed);
    const signature = await ctx.keys.hsm.sign(keyRefFor(object, 'asymmetric', ctx), spec, request.data);
    return { uid: object.uid, signature, correlation: undefined };
  },
  encodeResponse(response: SignResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ...(response.signature ? [ttlv.byteString(T.SignatureData, response.signature)] : []),
      ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
    ];
  },
});
