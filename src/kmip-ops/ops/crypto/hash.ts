import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { requiredHashing } from '../../crypto/parameters.js';
import { streamStep } from '../../crypto/streams.js';
import { partData, readKeyedRequest, type KeyedRequest } from './common.js';

const T = tags('Data', 'CorrelationValue');

interface HashRequest extends KeyedRequest {
  readonly data: Uint8Array;
}

interface HashResponse {
  readonly digest: Uint8Array | undefined;
  readonly correlation: Uint8Array | undefined;
}

/**
 * Hash (KMIP 1.4 §4.37, 2.1 §6.1.23): the token's digest of Data with the Hashing Algorithm of the request's
 * Cryptographic Parameters (SHA-1, SHA-224 to SHA-512), single-part or in parts.
 */
export const hash = handler({
  operation: 'Hash',
  since: '1.2',
  access: 'info',
  decodeRequest(payload): HashRequest {
    const keyed = readKeyedRequest(payload, 'Hash');
    if (keyed.parameters === undefined && keyed.part?.init !== false) {
      throw errors.invalidField('Hash needs Cryptographic Parameters with a Hashing Algorithm');
    }
    return { ...keyed, data: partData(payload, keyed, 'Hash') };
  },
  async execute(request: HashRequest, ctx): Promise<HashResponse> {
    const algorithm = (): ReturnType<typeof requiredHashing> =>
      requiredHashing(request.parameters?.enumeration('HashingAlgorithm'));
    if (request.part !== undefined) {
      const step = await streamStep(
        request.part,
        'Hash',
        ctx,
        () =>
          Promise.resolve({
            uid: undefined,
            key: undefined,
            operation: { kind: 'digest', hash: algorithm() },
          }),
        request.data,
        {},
      );
      return { digest: step.result?.data, correlation: step.correlation };
    }
    return { digest: await ctx.keys.hsm.digest(algorithm(), request.data), correlation: undefined };
  },
  encodeResponse(response: HashResponse): TtlvItem[] {
    return [
      ...(response.digest ? [ttlv.byteString(T.Data, response.digest)] : []),
      ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
    ];
  },
});
