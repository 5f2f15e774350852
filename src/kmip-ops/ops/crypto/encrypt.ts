import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { tags } from '../../../kmip/vocabulary.js';
import type { CipherSpec } from '../../../hsm/hsm.js';
import { handler, type RequestContext } from '../../context.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { ObjectType, type ManagedObject } from '../../managed-object.js';
import {
  partData,
  readKeyedRequest,
  usableKey,
  type KeyedRequest,
  chargeLaterParts,
  cipherPlanIn,
} from './common.js';

const T = tags(
  'UniqueIdentifier',
  'Data',
  'IVCounterNonce',
  'CorrelationValue',
  'AuthenticatedEncryptionTag',
);

interface EncryptRequest extends KeyedRequest {
  readonly data: Uint8Array;
  readonly iv: Uint8Array | undefined;
  readonly aad: Uint8Array | undefined;
}

interface EncryptResponse {
  readonly uid: string;
  readonly data: Uint8Array;
  /** The IV the server chose, when the request gave none (KMIP 1.4 §4.29 Table 230). */
  readonly iv: Uint8Array | undefined;
  readonly correlation: Uint8Array | undefined;
  readonly tag: Uint8Array | undefined;
  /** Whether this answers one part of a multi-part operation. */
  readonly part: boolean;
}

const rule = { operation: 'Encrypt', kind: 'protect', usage: Usage.Encrypt } as const;
const keyTypes = [ObjectType.SymmetricKey, ObjectType.PublicKey, ObjectType.Certificate];

/** The key, what to run, and the IV the server chose for a request that gave none. */
async function prepare(
  request: EncryptRequest,
  ctx: RequestContext,
): Promise<{ object: ManagedObject; spec: CipherSpec; rsa: boolean; chosen: Uint8Array | undefined }> {
  const { object, parameters } = await usableKey(request, rule, keyTypes, ctx, request.data);
  const plan = cipherPlanIn(parameters, ctx);
  if (plan.kind === 'rsa') return { object, spec: plan.spec, rsa: true, chosen: undefined };
  const chosen =
    request.iv === undefined && plan.ivBytes > 0 ? await ctx.keys.hsm.random(plan.ivBytes) : undefined;
  const iv = request.iv ?? chosen;
  const spec: CipherSpec = {
    algorithm: plan.algorithm,
    mode: plan.mode,
    ...(iv ? { iv } : {}),
    ...(request.aad ? { aad: request.aad } : {}),
    ...(plan.tagBytes === undefined ? {} : { tagBytes: plan.tagBytes }),
  };
  return { object, spec, rsa: false, chosen };
}

/**
 * Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.20) inside the token: AES (ECB, CBC, GCM), 3DES, DES with a symmetric key; RSA
 * (OAEP, PKCS#1 v1.5) with a public key or certificate; single-part, or in parts (Init/Final Indicator, Correlation
 * Value) for the block ciphers. An IV the mode needs and the request lacks is drawn from the token's generator and
 * returned.
 */
export const encrypt = handler({
  operation: 'Encrypt',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload): EncryptRequest {
    const keyed = readKeyedRequest(payload, 'Encrypt');
    return {
      ...keyed,
      data: partData(payload, keyed, 'Encrypt'),
      iv: payload?.bytes('IVCounterNonce'),
      aad: payload?.bytes('AuthenticatedEncryptionAdditionalData'),
    };
  },
  async execute(request: EncryptRequest, ctx): Promise<EncryptResponse> {
    if (request.part !== undefined) {
      let chosen: Uint8Array | undefined;
      const step = await streamStep(
        request.part,
        'Encrypt',
        ctx,
        async () => {
          const prepared = await prepare(request, ctx);
          chosen = prepared.chosen;
          const key = keyRefFor(prepared.object, prepared.rsa ? 'asymmetric' : 'cipher', ctx);
          return {
            uid: prepared.object.uid,
            key,
            operation: { kind: 'encrypt', spec: prepared.spec },
            charge: chargeLaterParts(rule),
          };
        },
        request.data,
        {},
      );
      return {
        uid: step.uid ?? '',
        data: step.output,
        iv: chosen,
        correlation: step.correlation,
        tag: step.result?.tag,
        part: true,
      };
    }
    const { object, spec, rsa, chosen } = await prepare(request, ctx);
    const out = await ctx.keys.hsm.encrypt(
      keyRefFor(object, rsa ? 'asymmetric' : 'cipher', ctx),
      spec,
      request.data,
    );
    return { uid: object.uid, data: out.data, iv: chosen, correlation: undefined, tag: out.tag, part: false };
  },
  encodeResponse(response: EncryptResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      // A part that produced no output (a block cipher holding back a partial block, or a last part with nothing
      // left, as TC-STREAM-ENC-2 expects) answers no Data.
      ...(response.data.length > 0 || !response.part ? [ttlv.byteString(T.Data, response.data)] : []),
      ...(response.iv ? [ttlv.byteString(T.IVCounterNonce, response.iv)] : []),
      ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
      ...(response.tag ? [ttlv.byteString(T.AuthenticatedEncryptionTag, response.tag)] : []),
    ];
  },
});
