import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { requiredBytes } from './common.js';
import { MAX_RANDOM_BYTES } from './rng-retrieve.js';

const T = tags('DataLength');

/**
 * RNG Seed (KMIP 1.4 §4.36, 2.1 §6.1.48): the seed goes to the token's generator (C_SeedRandom); Data Length
 * answers how much of it was accepted, 0 when the token takes no seed (the spec lets the server ignore it).
 */
export const rngSeed = handler({
  operation: 'RNGSeed',
  since: '1.2',
  access: 'create',
  decodeRequest(payload) {
    const data = requiredBytes(payload, 'Data', 'RNG Seed');
    if (data.length > MAX_RANDOM_BYTES)
      throw errors.invalidField(`a seed is at most ${String(MAX_RANDOM_BYTES)} bytes`);
    return data;
  },
  async execute(seed: Uint8Array, ctx) {
    // The token's generator cannot give a seed back (undo.ts).
    if (ctx.undo === true)
      throw errors.featureNotSupported(
        'RNG Seed cannot be undone: it is refused in a batch with Batch Error Continuation Option Undo',
      );
    return (await ctx.keys.hsm.seedRandom(seed)) ? seed.length : 0;
  },
  encodeResponse(accepted: number): TtlvItem[] {
    return [ttlv.integer(T.DataLength, accepted)];
  },
});
