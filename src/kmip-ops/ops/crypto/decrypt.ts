import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import type { CipherSpec } from '../../../hsm/hsm.js';
import { handler, type RequestContext } from '../../context.js';
import { errors } from '../../errors.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { ObjectType, type ManagedObject } from '../../managed-object.js';
import { partData, readKeyedRequest, usableKey, type KeyedRequest, cipherPlanIn } from './common.js';

const T = tags('UniqueIdentifier', 'Data', 'CorrelationValue');

interface DecryptRequest extends KeyedRequest {
  readonly data: Uint8Array;
  readonly iv: Uint8Array | undefined;
  readonly aad: Uint8Array | undefined;
  readonly tag: Uint8Array | undefined;
}

interface DecryptResponse {
  readonly uid: string;
  readonly data: Uint8Array;
  readonly correlation: Uint8Array | undefined;
  /** Whether this answers one part of a multi-part operation. */
  readonly part: boolean;
}

const rule = { operation: 'Decrypt', kind: 'process', usage: Usage.Decrypt } as const;
const keyTypes = [ObjectType.SymmetricKey, ObjectType.PrivateKey];

async function prepare(
  request: DecryptRequest,
  ctx: RequestContext,
  tagComesLater: boolean,
): Promise<{ object: ManagedObject; spec: CipherSpec; rsa: boolean }> {
  const { object, parameters } = await usableKey(request, rule, keyTypes, ctx);
  const plan = cipherPlanIn(parameters, ctx);
  if (plan.kind === 'rsa') return { object, spec: plan.spec, rsa: true };
  if (plan.ivBytes > 0 && request.iv === undefined) {
    // The 1.3/1.4 profile vectors (CS-BC-M-11) expect Invalid Message for this.
    throw errors.invalidMessage('Decrypt in this mode needs the IV/Counter/Nonce used to encrypt');
  }
  if (plan.mode === 'GCM' && request.tag === undefined && !tagComesLater) {
    throw errors.invalidField('Decrypt in GCM needs the Authenticated Encryption Tag');
  }
  const spec: CipherSpec = {
    algorithm: plan.algorithm,
    mode: plan.mode,
    ...(request.iv && plan.ivBytes > 0 ? { iv: request.iv } : {}),
    ...(request.aad ? { aad: request.aad } : {}),
    ...(plan.tagBytes === undefined ? {} : { tagBytes: request.tag?.length ?? plan.tagBytes }),
  };
  return { object, spec, rsa: false };
}

/**
 * Decrypt (KMIP 1.4 §4.30, 2.1 §6.1.11) inside the token, with a symmetric or private key, single-part or in parts
 * (the GCM tag comes with the last part). A GCM tag that does not verify, or padding that does not check, is
 * Cryptographic Failure and returns no data.
 */
export const decrypt = handler({
  operation: 'Decrypt',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload): DecryptRequest {
    const keyed = readKeyedRequest(payload, 'Decrypt');
    return {
      ...keyed,
      data: partData(payload, keyed, 'Decrypt'),
      iv: payload?.bytes('IVCounterNonce'),
      aad: payload?.bytes('AuthenticatedEncryptionAdditionalData'),
      tag: payload?.bytes('AuthenticatedEncryptionTag'),
    };
  },
  async execute(request: DecryptRequest, ctx): Promise<DecryptResponse> {
    const part = request.part;
    if (part !== undefined) {
      const step = await streamStep(
        part,
        'Decrypt',
        ctx,
        async () => {
          const { object, spec, rsa } = await prepare(request, ctx, !part.final);
          const key = keyRefFor(object, rsa ? 'asymmetric' : 'cipher', ctx);
          return { uid: object.uid, key, operation: { kind: 'decrypt', spec } };
        },
        request.data,
        request.tag ? { tag: request.tag } : {},
      );
      return { uid: step.uid ?? '', data: step.output, correlation: step.correlation, part: true };
    }
    const { object, spec, rsa } = await prepare(request, ctx, false);
    const key = keyRefFor(object, rsa ? 'asymmetric' : 'cipher', ctx);
    const data = await ctx.keys.hsm.decrypt(key, spec, request.data, request.tag);
    return { uid: object.uid, data, correlation: undefined, part: false };
  },
  encodeResponse(response: DecryptResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      // A part that produced no output (a block cipher holding back a partial block, GCM until its tag, a last
      // part with nothing left) answers no Data.
      ...(response.data.length > 0 || !response.part ? [ttlv.byteString(T.Data, response.data)] : []),
      ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
    ];
  },
});
