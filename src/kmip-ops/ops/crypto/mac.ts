import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { isHmac, macPlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { readKeyedRequest, requiredBytes, secretKeys, usableKey, type KeyedRequest } from './common.js';

const T = tags('UniqueIdentifier', 'MACData');

/**
 * MAC (KMIP 1.4 §4.33, 2.1 §6.1.32), single-part, inside the token: HMAC with SHA-1 to SHA-512 (the algorithm
 * from the request's Cryptographic Parameters or the key), or CMAC with an AES or 3DES key.
 */
export const mac = handler({
  operation: 'MAC',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    return { ...readKeyedRequest(payload, 'MAC'), data: requiredBytes(payload, 'Data', 'MAC') };
  },
  async execute(request: KeyedRequest & { data: Uint8Array }, ctx) {
    const rule = { operation: 'MAC', kind: 'protect', usage: Usage.MACGenerate } as const;
    const { object, parameters } = await usableKey(request, rule, secretKeys, ctx, request.data);
    const spec = macPlan(parameters);
    const ref = keyRefFor(object, isHmac(spec) ? 'hmac' : 'cipher', ctx);
    return { uid: object.uid, mac: await ctx.keys.hsm.mac(ref, spec, request.data) };
  },
  encodeResponse(response: { uid: string; mac: Uint8Array }): TtlvItem[] {
    return [ttlv.textString(T.UniqueIdentifier, response.uid), ttlv.byteString(T.MACData, response.mac)];
  },
});
