import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { versionAtLeast } from '../../../kmip/registry.js';
import { tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { cipherPlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { ObjectType } from '../../managed-object.js';
import { readKeyedRequest, requiredBytes, usableKey, type KeyedRequest } from './common.js';

const T = tags('UniqueIdentifier', 'Data', 'IVCounterNonce', 'AuthenticatedEncryptionTag');

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
  readonly tag: Uint8Array | undefined;
}

/**
 * Encrypt (KMIP 1.4 §4.29, 2.1 §6.1.20), single-part, inside the token: AES (ECB, CBC, GCM), 3DES, DES with a
 * symmetric key; RSA (OAEP, PKCS#1 v1.5) with a public key or certificate. An IV the mode needs and the request
 * lacks is drawn from the token's generator and returned.
 */
export const encrypt = handler({
  operation: 'Encrypt',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload): EncryptRequest {
    return {
      ...readKeyedRequest(payload, 'Encrypt'),
      data: requiredBytes(payload, 'Data', 'Encrypt'),
      iv: payload?.bytes('IVCounterNonce'),
      aad: payload?.bytes('AuthenticatedEncryptionAdditionalData'),
    };
  },
  async execute(request: EncryptRequest, ctx): Promise<EncryptResponse> {
    const rule = { operation: 'Encrypt', kind: 'protect', usage: Usage.Encrypt } as const;
    const types = [ObjectType.SymmetricKey, ObjectType.PublicKey, ObjectType.Certificate];
    const { object, parameters } = await usableKey(request, rule, types, ctx, request.data);
    const plan = cipherPlan(parameters);
    if (plan.kind === 'block' && plan.mode === 'GCM' && !versionAtLeast(ctx.version, '1.4')) {
      // The Authenticated Encryption Tag (and Additional Data) fields came with KMIP 1.4 (§2.1.22, §2.1.23):
      // an older message cannot carry the tag, so GCM cannot be done in it.
      throw errors.invalidField(
        'GCM needs KMIP 1.4 or later, whose messages carry the Authenticated Encryption Tag',
      );
    }
    const hsm = ctx.keys.hsm;
    if (plan.kind === 'rsa') {
      const out = await hsm.encrypt(keyRefFor(object, 'asymmetric', ctx), plan.spec, request.data);
      return { uid: object.uid, data: out.data, iv: undefined, tag: undefined };
    }
    const chosen = request.iv === undefined && plan.ivBytes > 0 ? await hsm.random(plan.ivBytes) : undefined;
    const iv = request.iv ?? chosen;
    const out = await hsm.encrypt(
      keyRefFor(object, 'cipher', ctx),
      {
        algorithm: plan.algorithm,
        mode: plan.mode,
        ...(iv ? { iv } : {}),
        ...(request.aad ? { aad: request.aad } : {}),
        ...(plan.tagBytes === undefined ? {} : { tagBytes: plan.tagBytes }),
      },
      request.data,
    );
    return { uid: object.uid, data: out.data, iv: chosen, tag: out.tag };
  },
  encodeResponse(response: EncryptResponse): TtlvItem[] {
    return [
      ttlv.textString(T.UniqueIdentifier, response.uid),
      ttlv.byteString(T.Data, response.data),
      ...(response.iv ? [ttlv.byteString(T.IVCounterNonce, response.iv)] : []),
      ...(response.tag ? [ttlv.byteString(T.AuthenticatedEncryptionTag, response.tag)] : []),
    ];
  },
});
