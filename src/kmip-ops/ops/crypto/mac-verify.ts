import type { TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { type KeyedRequest, macKey, partData, readKeyedRequest } from './common.js';
import { verifyResponse, type VerifyResponse } from './signature-verify.js';

const T = tags('UniqueIdentifier');

const rule = { operation: 'MAC Verify', kind: 'process', usage: Usage.MACVerify } as const;

/**
 * MAC Verify (KMIP 1.4 §4.34, 2.1 §6.1.33): the token checks the MAC, single-part or in parts (the MAC Data may
 * come with any part); a mismatch is a successful Invalid.
 */
export const macVerify = handler({
  operation: 'MACVerify',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    const keyed = readKeyedRequest(payload, 'MAC Verify');
    const mac = payload?.bytes('MACData');
    if (mac === undefined && keyed.part === undefined) throw errors.invalidField('MAC Verify needs MACData');
    return { ...keyed, data: partData(payload, keyed, 'MAC Verify'), mac };
  },
  async execute(
    request: KeyedRequest & { data: Uint8Array; mac: Uint8Array | undefined },
    ctx,
  ): Promise<VerifyResponse> {
    const begin = () => macKey(request, rule, ctx);
    if (request.part !== undefined) {
      const step = await streamStep(
        request.part,
        'MACVerify',
        ctx,
        async () => {
          const { uid, ref, spec } = await begin();
          return {
            uid,
            key: ref,
            operation: { kind: 'mac-verify', spec },
            ...(request.mac ? { expected: request.mac } : {}),
          };
        },
        request.data,
        request.mac ? { expected: request.mac } : {},
      );
      return { uid: step.uid ?? '', valid: step.result?.valid, correlation: step.correlation };
    }
    const { uid, ref, spec } = await begin();
    const valid = await ctx.keys.hsm.macVerify(ref, spec, request.data, request.mac ?? new Uint8Array(0));
    return { uid, valid, correlation: undefined };
  },
  encodeResponse(response: VerifyResponse): TtlvItem[] {
    return verifyResponse(T.UniqueIdentifier, response);
  },
});
