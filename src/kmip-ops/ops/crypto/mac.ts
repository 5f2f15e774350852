import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { chargeLaterParts, type KeyedRequest, macKey, partData, readKeyedRequest } from './common.js';

const T = tags('UniqueIdentifier', 'MACData', 'CorrelationValue');

interface MacResponse {
  readonly uid: string;
  readonly mac: Uint8Array | undefined;
  readonly correlation: Uint8Array | undefined;
}

const rule = { operation: 'MAC', kind: 'protect', usage: Usage.MACGenerate } as const;

/**
 * MAC (KMIP 1.4 §4.33, 2.1 §6.1.32) inside the token, single-part or in parts: HMAC with SHA-1 to SHA-512 (the
 * algorithm from the request's Cryptographic Parameters or the key), or CMAC with an AES or 3DES key.
 */
export const mac = handler({
  operation: 'MAC',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload) {
    const keyed = readKeyedRequest(payload, 'MAC');
    return { ...keyed, data: partData(payload, keyed, 'MAC') };
  },
  async execute(request: KeyedRequest & { data: Uint8Array }, ctx): Promise<MacResponse> {
    const begin = () => macKey(request, rule, ctx, request.data);
    if (request.part !== undefined) {
      const step = await streamStep(
        request.part,
        'MAC',
        ctx,
        async () => {
          const { uid, ref, spec } = await begin();
          return { uid, key: ref, operation: { kind: 'mac', spec }, charge: chargeLaterParts(rule) };
        },
        request.data,
        {},
      );
      return { uid: step.uid ?? '', mac: step.result?.data, correlation: step.correlation };
    }
    const { uid, ref, spec } = await begin();
    return { uid, mac: await ctx.keys.hsm.mac(ref, spec, request.data), correlation: undefined };
  },
  encodeResponse(response: MacResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ...(response.mac ? [ttlv.byteString(T.MACData, response.mac)] : []),
      ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
    ];
  },
});
