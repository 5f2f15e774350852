import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { isHmac, macPlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { readKeyedRequest, requiredBytes, secretKeys, usableKey, type KeyedRequest } from './common.js';
import { Validity } from './signature-verify.js';

const T = tags('UniqueIdentifier', 'ValidityIndicator');

/** MAC Verify (KMIP 1.4 §4.34, 2.1 §6.1.33): the token checks the MAC; a mismatch is a successful Invalid. */
export const macVerify = handler({
  operation: 'MACVerify',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    return {
      ...readKeyedRequest(payload, 'MAC Verify'),
      data: requiredBytes(payload, 'Data', 'MAC Verify'),
      mac: requiredBytes(payload, 'MACData', 'MAC Verify'),
    };
  },
  async execute(request: KeyedRequest & { data: Uint8Array; mac: Uint8Array }, ctx) {
    const rule = { operation: 'MAC Verify', kind: 'process', usage: Usage.MACVerify } as const;
    const { object, parameters } = await usableKey(request, rule, secretKeys, ctx);
    const spec = macPlan(parameters);
    const ref = keyRefFor(object, isHmac(spec) ? 'hmac' : 'cipher', ctx);
    return { uid: object.uid, valid: await ctx.keys.hsm.macVerify(ref, spec, request.data, request.mac) };
  },
  encodeResponse(response: { uid: string; valid: boolean }): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ttlv.enumeration(T.ValidityIndicator, response.valid ? Validity.Valid : Validity.Invalid),
    ];
  },
});
