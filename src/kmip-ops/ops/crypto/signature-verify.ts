import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { enumValues, tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { signaturePlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { publicKeys, readKeyedRequest, requiredBytes, usableKey, type KeyedRequest } from './common.js';
import { readSignedData, type SignedData } from './sign.js';

const T = tags('UniqueIdentifier', 'ValidityIndicator');
export const Validity = enumValues('ValidityIndicator', 'Valid', 'Invalid');

/**
 * Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.53), single-part, inside the token, with a public key or a
 * certificate. A signature that does not verify, or is malformed, is a successful answer of Invalid.
 */
export const signatureVerify = handler({
  operation: 'SignatureVerify',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    return {
      ...readKeyedRequest(payload, 'Signature Verify'),
      ...readSignedData(payload, 'Signature Verify'),
      signature: requiredBytes(payload, 'SignatureData', 'Signature Verify'),
    };
  },
  async execute(request: KeyedRequest & SignedData & { signature: Uint8Array }, ctx) {
    const rule = { operation: 'Signature Verify', kind: 'process', usage: Usage.Verify } as const;
    const { object, parameters } = await usableKey(request, rule, publicKeys, ctx);
    const spec = signaturePlan(parameters, request.prehashed);
    const ref = keyRefFor(object, 'asymmetric', ctx);
    const valid = await ctx.keys.hsm.verify(ref, spec, request.data, request.signature);
    return { uid: object.uid, valid };
  },
  encodeResponse(response: { uid: string; valid: boolean }): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ttlv.enumeration(T.ValidityIndicator, response.valid ? Validity.Valid : Validity.Invalid),
    ];
  },
});
