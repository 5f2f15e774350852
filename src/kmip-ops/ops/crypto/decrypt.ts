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

const T = tags('UniqueIdentifier', 'Data');

interface DecryptRequest extends KeyedRequest {
  readonly data: Uint8Array;
  readonly iv: Uint8Array | undefined;
  readonly aad: Uint8Array | undefined;
  readonly tag: Uint8Array | undefined;
}

/**
 * Decrypt (KMIP 1.4 §4.30, 2.1 §6.1.11), single-part, inside the token, with a symmetric or private key. A GCM tag
 * that does not verify, or padding that does not check, is Cryptographic Failure and returns no data.
 */
export const decrypt = handler({
  operation: 'Decrypt',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload): DecryptRequest {
    return {
      ...readKeyedRequest(payload, 'Decrypt'),
      data: requiredBytes(payload, 'Data', 'Decrypt'),
      iv: payload?.bytes('IVCounterNonce'),
      aad: payload?.bytes('AuthenticatedEncryptionAdditionalData'),
      tag: payload?.bytes('AuthenticatedEncryptionTag'),
    };
  },
  async execute(request: DecryptRequest, ctx) {
    const rule = { operation: 'Decrypt', kind: 'process', usage: Usage.Decrypt } as const;
    const types = [ObjectType.SymmetricKey, ObjectType.PrivateKey];
    const { object, parameters } = await usableKey(request, rule, types, ctx);
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
      return {
        uid: object.uid,
        data: await hsm.decrypt(keyRefFor(object, 'asymmetric', ctx), plan.spec, request.data),
      };
    }
    if (plan.ivBytes > 0 && request.iv === undefined) {
      // The 1.3/1.4 profile vectors (CS-BC-M-11) expect Invalid Message for this.
      throw errors.invalidMessage('Decrypt in this mode needs the IV/Counter/Nonce used to encrypt');
    }
    if (plan.mode === 'GCM' && request.tag === undefined) {
      throw errors.invalidField('Decrypt in GCM needs the Authenticated Encryption Tag');
    }
    const data = await hsm.decrypt(
      keyRefFor(object, 'cipher', ctx),
      {
        algorithm: plan.algorithm,
        mode: plan.mode,
        ...(request.iv && plan.ivBytes > 0 ? { iv: request.iv } : {}),
        ...(request.aad ? { aad: request.aad } : {}),
        ...(plan.tagBytes === undefined ? {} : { tagBytes: request.tag?.length ?? plan.tagBytes }),
      },
      request.data,
      request.tag,
    );
    return { uid: object.uid, data };
  },
  encodeResponse(response: { uid: string; data: Uint8Array }): TtlvItem[] {
    return [ttlv.textString(T.UniqueIdentifier, response.uid), ttlv.byteString(T.Data, response.data)];
  },
});
