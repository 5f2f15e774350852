import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { Fields } from '../../../kmip/fields.js';
import { requiredHash } from '../../crypto/parameters.js';
import { readKeyedRequest, requiredBytes } from './common.js';

const T = tags('Data');

/**
 * Hash (KMIP 1.4 §4.37, 2.1 §6.1.23), single-part: the token's digest of Data with the Hashing Algorithm of the
 * request's Cryptographic Parameters (SHA-1, SHA-224 to SHA-512).
 */
export const hash = handler({
  operation: 'Hash',
  since: '1.2',
  access: 'info',
  decodeRequest(payload) {
    const { parameters } = readKeyedRequest(payload, 'Hash');
    if (parameters === undefined)
      throw errors.invalidField('Hash needs Cryptographic Parameters with a Hashing Algorithm');
    return { parameters, data: requiredBytes(payload, 'Data', 'Hash') };
  },
  async execute(request: { parameters: Fields; data: Uint8Array }, ctx) {
    const algorithm = requiredHash({
      algorithm: undefined,
      mode: undefined,
      padding: undefined,
      hashing: request.parameters.enumeration('HashingAlgorithm'),
      signature: undefined,
      randomIv: undefined,
      ivLength: undefined,
      tagLength: undefined,
      saltLength: undefined,
      maskGeneratorHashing: undefined,
      pSource: undefined,
    });
    return ctx.keys.hsm.digest(algorithm, request.data);
  },
  encodeResponse(digest: Uint8Array): TtlvItem[] {
    return [ttlv.byteString(T.Data, digest)];
  },
});
