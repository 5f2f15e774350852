import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { registryFor, versionAtLeast } from '../../kmip/registry.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import type { SecretKeyAlgorithm } from '../../hsm/hsm.js';
import { requireQuantumSafe } from '../quantum-safe.js';
import { digestOf, generatedObjectAttributes, generationAttributes } from '../server-attributes.js';
import { withFullUsageCount } from '../usage-limits.js';
import { handler, type RequestContext } from '../context.js';
import { requireStorage } from '../protection-storage.js';
import { errors } from '../errors.js';
import {
  activationState,
  createObject,
  enumAttribute,
  newUid,
  ObjectType,
  serverAttributes,
  single,
} from '../managed-object.js';
import { KeyFormat } from '../object-payloads.js';
import { storeStructure } from './register.js';
import { attributeContainer, clientAttributes } from '../template.js';

const T = tags(
  'ObjectType',
  'UniqueIdentifier',
  'CryptographicAlgorithm',
  'CryptographicUsageMask',
  'KeyFormatType',
  'SecretData',
  'SecretDataType',
  'KeyBlock',
  'KeyValue',
  'KeyMaterial',
);
const SecretDataType = enumValues('SecretDataType', 'Password');
const Algorithm = enumValues(
  'CryptographicAlgorithm',
  'AES',
  'DES',
  'DES3',
  'HMAC_SHA1',
  'HMAC_SHA224',
  'HMAC_SHA256',
  'HMAC_SHA384',
  'HMAC_SHA512',
  'SKIPJACK',
);
export const UsageMask = enumValues(
  'CryptographicUsageMask',
  'Sign',
  'Verify',
  'Encrypt',
  'Decrypt',
  'WrapKey',
  'UnwrapKey',
  'MACGenerate',
  'MACVerify',
);

/**
 * Key lengths each algorithm allows, in bits (FIPS 197 for AES; DES 64 with parity; 3DES two- or three-key;
 * FIPS 185 for SKIPJACK).
 */
export const secretKeys = new Map<
  number,
  { hsm: SecretKeyAlgorithm; lengths: (bits: number) => boolean; mask: number }
>([
  [
    Algorithm.AES,
    {
      hsm: 'AES',
      lengths: (b) => b === 128 || b === 192 || b === 256,
      mask: UsageMask.Encrypt | UsageMask.Decrypt,
    },
  ],
  [
    Algorithm.DES,
    { hsm: 'DES', lengths: (b) => b === 56 || b === 64, mask: UsageMask.Encrypt | UsageMask.Decrypt },
  ],
  [
    Algorithm.DES3,
    {
      hsm: 'DES3',
      lengths: (b) => b === 112 || b === 168 || b === 128 || b === 192,
      mask: UsageMask.Encrypt | UsageMask.Decrypt,
    },
  ],
  // Stored and served like any key; the token offers no SKIPJACK cipher, so Encrypt with it is refused.
  [
    Algorithm.SKIPJACK,
    { hsm: 'SKIPJACK', lengths: (b) => b === 80, mask: UsageMask.Encrypt | UsageMask.Decrypt },
  ],
  ...(
    [
      [Algorithm.HMAC_SHA1, 'HMAC-SHA1'],
      [Algorithm.HMAC_SHA224, 'HMAC-SHA224'],
      [Algorithm.HMAC_SHA256, 'HMAC-SHA256'],
      [Algorithm.HMAC_SHA384, 'HMAC-SHA384'],
      [Algorithm.HMAC_SHA512, 'HMAC-SHA512'],
    ] as const
  ).map(
    ([alg, hsm]) =>
      [
        alg,
        {
          hsm,
          lengths: (b: number) => b >= 8 && b <= 4096 && b % 8 === 0,
          mask: UsageMask.MACGenerate | UsageMask.MACVerify,
        },
      ] as const,
  ),
]);

interface CreateRequest {
  readonly objectType: number;
  readonly attributes: Attribute[];
}

/**
 * Create (KMIP 1.4 §4.1, 2.1 §6.1.8): a symmetric key generated inside the token; from KMIP 2.0 also Secret Data
 * ("generate a new symmetric key or generate Secret Data"), random bytes of the Cryptographic Length drawn from the
 * token's generator.
 */
export const create = handler({
  operation: 'Create',
  since: '1.0',
  access: 'create',
  decodeRequest(payload, ctx): CreateRequest {
    if (!payload) throw errors.invalidField('Create needs a request payload');
    const objectType = payload.requiredEnumeration('ObjectType');
    const makesSecretData = versionAtLeast(ctx.version, '2.0');
    if (
      objectType !== ObjectType.SymmetricKey &&
      !(makesSecretData && objectType === ObjectType.SecretData)
    ) {
      const name = registryFor(ctx.version).enumName(T.ObjectType, objectType) ?? String(objectType);
      const makes = makesSecretData ? 'Symmetric Keys and Secret Data' : 'Symmetric Keys';
      throw errors.invalidField(`Create makes ${makes}; ${name} is made with other operations`);
    }
    requireStorage(payload, 'ProtectionStorageMasks', ctx);
    return {
      objectType,
      attributes: clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx),
    };
  },
  async execute(request: CreateRequest, ctx) {
    if (request.objectType === ObjectType.SecretData) return createSecretData(request, ctx);
    const algorithm = enumAttribute(request.attributes, 'CryptographicAlgorithm');
    const lengthItem = single(request.attributes, 'CryptographicLength');
    if (algorithm === undefined)
      throw errors.invalidField('Create needs a Cryptographic Algorithm attribute');
    const spec = secretKeys.get(algorithm);
    const algorithmName =
      registryFor(ctx.version).enumName(T.CryptographicAlgorithm, algorithm) ?? String(algorithm);
    if (!spec) throw errors.invalidField(`this server does not generate ${algorithmName} keys`);
    if (lengthItem?.type !== ItemType.Integer)
      throw errors.invalidField('Create needs a Cryptographic Length attribute');
    const bits = lengthItem.value;
    if (!spec.lengths(bits))
      throw errors.invalidField(`${bits} is not a valid Cryptographic Length for ${algorithmName}`);
    requireQuantumSafe(request.objectType, request.attributes);
    const attributes: Attribute[] = withFullUsageCount(request.attributes);
    if (!single(attributes, 'CryptographicUsageMask')) {
      attributes.push({ kind: 'standard', value: ttlv.integer(T.CryptographicUsageMask, spec.mask) });
    }
    const uid = newUid();
    const owner = ctx.principal.name;
    const kek = await ctx.keys.kekFor(owner);
    const { sha256, ...sealed } = await ctx.keys.hsm.generateSecretKey(kek, spec.hsm, bits);
    const state = activationState(attributes, ctx);
    await createObject(
      {
        uid,
        owner,
        attributes: [
          ...serverAttributes(ctx, uid, request.objectType, state),
          ...attributes,
          digestOf(sha256, KeyFormat.Raw),
          { kind: 'standard', value: ttlv.enumeration(T.KeyFormatType, KeyFormat.Raw) },
          ...generatedObjectAttributes(attributes, ctx),
        ],
        material: { kind: 'sealed-key', sealed },
      },
      ctx,
    );
    return { uid, objectType: request.objectType };
  },
  encodeResponse(response: { uid: string; objectType: number }): TtlvItem[] {
    return [
      ttlv.enumeration(T.ObjectType, response.objectType),
      ttlv.textString(T.UniqueIdentifier, response.uid),
    ];
  },
});

/** The most Secret Data one Create makes: 64 KiB, far past any password or seed, and one token call. */
const MAX_SECRET_DATA_BITS = 65536 * 8;

/**
 * Create of Secret Data (KMIP 2.1 §6.1.8): random bytes from the token's generator, kept as a Password in Opaque
 * format, as the 2.0 test case TC-CREATE-SD-1 answers it; then stored as Register stores Secret Data, with what a
 * generated object has (Original Creation Date, Random Number Generator).
 */
async function createSecretData(
  request: CreateRequest,
  ctx: RequestContext,
): Promise<{ uid: string; objectType: number }> {
  const lengthItem = single(request.attributes, 'CryptographicLength');
  if (lengthItem?.type !== ItemType.Integer)
    throw errors.invalidField('Create of Secret Data needs a Cryptographic Length attribute (bits)');
  const bits = lengthItem.value;
  if (bits <= 0 || bits % 8 !== 0 || bits > MAX_SECRET_DATA_BITS)
    throw errors.invalidField(
      `Secret Data is made in whole bytes, 8 to ${String(MAX_SECRET_DATA_BITS)} bits, not ${String(bits)}`,
    );
  const bytes = await ctx.keys.hsm.random(bits / 8);
  const structure = ttlv.structure(T.SecretData, [
    ttlv.enumeration(T.SecretDataType, SecretDataType.Password),
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, KeyFormat.Opaque),
      ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, bytes)]),
    ]),
  ]);
  try {
    const generated = generationAttributes(request.attributes, ctx);
    const uid = await storeStructure(request.objectType, request.attributes, structure, ctx, generated);
    return { uid, objectType: request.objectType };
  } finally {
    bytes.fill(0);
  }
}
