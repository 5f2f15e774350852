import { ttlv, type TtlvItem } from '../../../ttlv/types.js';
import { enumValues, tags } from '../../../kmip/vocabulary.js';
import { handler } from '../../context.js';
import { errors } from '../../errors.js';
import { signaturePlan } from '../../crypto/parameters.js';
import { keyRefFor } from '../../crypto/key-ref.js';
import { Usage } from '../../crypto/permits.js';
import { streamStep } from '../../crypto/streams.js';
import { publicKeys, readKeyedRequest, usableKey, type KeyedRequest } from './common.js';
import { readSignedData, type SignedData } from './sign.js';

const T = tags('UniqueIdentifier', 'ValidityIndicator', 'CorrelationValue');
export const Validity = enumValues('ValidityIndicator', 'Valid', 'Invalid');

interface VerifyRequest extends KeyedRequest, SignedData {
  readonly signature: Uint8Array | undefined;
}

export interface VerifyResponse {
  readonly uid: string;
  /** Undefined while a multi-part operation goes on. */
  readonly valid: boolean | undefined;
  readonly correlation: Uint8Array | undefined;
}

const rule = { operation: 'Signature Verify', kind: 'process', usage: Usage.Verify } as const;

/** Validity Indicator for a finished check, Correlation Value while the parts go on (KMIP 1.4 §4.32, §4.34). */
export function verifyResponse(tag: number, response: VerifyResponse): TtlvItem[] {
  return [
    ttlv.textString(tag, response.uid),
    ...(response.valid === undefined
      ? []
      : [ttlv.enumeration(T.ValidityIndicator, response.valid ? Validity.Valid : Validity.Invalid)]),
    ...(response.correlation ? [ttlv.byteString(T.CorrelationValue, response.correlation)] : []),
  ];
}

/**
 * Signature Verify (KMIP 1.4 §4.32, 2.1 §6.1.53) inside the token, with a public key or a certificate,
 * single-part or in parts (the Signature Data may come with any part). A signature that does not verify, or is
 * malformed, is a successful answer of Invalid.
 */
export const signatureVerify = handler({
  operation: 'SignatureVerify',
  since: '1.2',
  access: 'read-material',
  decodeRequest(payload): VerifyRequest {
    const keyed = readKeyedRequest(payload, 'Signature Verify');
    const signature = payload?.bytes('SignatureData');
    if (signature === undefined && keyed.part === undefined) {
      throw errors.invalidField('Signature Verify needs SignatureData');
    }
    return { ...keyed, ...readSignedData(payload, keyed, 'Signature Verify'), signature };
  },
  async execute(request: VerifyRequest, ctx): Promise<VerifyResponse> {
    if (request.part !== undefined) {
      const step = await streamStep(
        request.part,
        'SignatureVerify',
        ctx,
        async () => {
          const { object, parameters } = await usableKey(request, rule, publicKeys, ctx);
          const spec = signaturePlan(parameters, false);
          return {
            uid: object.uid,
            key: keyRefFor(object, 'asymmetric', ctx),
            operation: { kind: 'verify', spec },
            ...(request.signature ? { expected: request.signature } : {}),
          };
        },
        request.data,
        request.signature ? { expected: request.signature } : {},
      );
      return { uid: step.uid ?? '', valid: step.result?.valid, correlation: step.correlation };
    }
    const { object, parameters } = await usableKey(request, rule, publicKeys, ctx);
    const spec = signaturePlan(parameters, request.prehashed);
    const ref = keyRefFor(object, 'asymmetric', ctx);
    const valid = await ctx.keys.hsm.verify(ref, spec, request.data, request.signature ?? new Uint8Array(0));
    return { uid: object.uid, valid, correlation: undefined };
  },
  encodeResponse(response: VerifyResponse): TtlvItem[] {
    return verifyResponse(T.UniqueIdentifier, response);
  },
});
