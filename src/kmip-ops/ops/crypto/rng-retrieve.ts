import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';

const T = tags('Data');

/**
 * The most one RNG Retrieve returns. It bounds the token call and the response a single request can cause; KMIP
 * clients ask for key-sized amounts (the vectors ask for 32 bytes).
 */
export const MAX_RANDOM_BYTES = 64 * 1024;

/** RNG Retrieve (KMIP 1.4 §4.35, 2.1 §6.1.47): Data Length bytes from the token's generator. */
export const rngRetrieve = handler({
  operation: 'RNGRetrieve',
  since: '1.2',
  access: 'info',
  decodeRequest(payload) {
    const length = payload?.integer('DataLength');
    if (length === undefined) throw errors.invalidField('RNG Retrieve needs Data Length');
    if (length < 1 || length > MAX_RANDOM_BYTES) {
      throw errors.invalidField(`Data Length must be 1 to ${String(MAX_RANDOM_BYTES)} bytes`);
    }
    return length;
  },
  async execute(length: number, ctx) {
    return ctx.keys.hsm.random(length);
  },
  encodeResponse(data: Uint8Array): TtlvItem[] {
    return [ttlv.byteString(T.Data, data)];
  },
});
