import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { signaturePlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { privateKeys, readKeyedRequest, usableKey, type KeyedRequest } from './common.js';

const T = tags('UniqueIdentifier', 'SignatureData');

export interface SignedData {
  /** The message, or the digest of it the client made (Digested Data, KMIP 1.4 §4.31). */
  readonly data: Uint8Array;
  readonly prehashed: boolean;
}

/** Data or Digested Data, exactly one of them. */
export function readSignedData(
  payload: Parameters<typeof readKeyedRequest>[0],
  operation: string,
): SignedData {
  const data = payload?.bytes('Data');
  const digested = payload?.bytes('DigestedData');
  if ((data === undefined) === (digested === undefined)) {
    throw errors.invalidField(`${operation} needs either Data or Digested Data`);
  }
  return digested === undefined
    ? { data: data ?? new Uint8Array(0), prehashed: false }
    : { data: digested, prehashed: true };
}

/**
 * Sign (KMIP 1.4 §4.31, 2.1 §6.1.52), single-part, inside the token, with a private key: RSA PKCS#1 v1.5 and PSS,
 * ECDSA and DSA (DER signatures), over Data or a client-made digest (Digested Data).
 */
export const sign = handler({
  operation: 'Sign',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    return { ...readKeyedRequest(payload, 'Sign'), ...readSignedData(payload, 'Sign') };
  },
  async execute(request: KeyedRequest & SignedData, ctx) {
    const rule = { operation: 'Sign', kind: 'protect', usage: Usage.Sign } as const;
    const { object, parameters } = await usableKey(request, rule, privateKeys, ctx, request.data);
    const spec = signaturePlan(parameters, request.prehashed);
    const signature = await ctx.keys.hsm.sign(keyRefFor(object, 'asymmetric', ctx), spec, request.data);
    return { uid: object.uid, signature };
  },
  encodeResponse(response: { uid: string; signature: Uint8Array }): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ttlv.byteString(T.SignatureData, response.signature),
    ];
  },
});
