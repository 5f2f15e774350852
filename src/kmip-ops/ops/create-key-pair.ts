import { createPrivateKey, createPublicKey } from 'node:crypto';
import { encodeTtlv } from '../../ttlv/encode.js';
import { ItemType, ttlv, type TtlvItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import type { Fields } from '../../kmip/fields.js';
import { registryFor } from '../../kmip/registry.js';
import { enumValues, tags } from '../../kmip/vocabulary.js';
import type { CurveName, KeyPairSpec, SealedSecret } from '../../hsm/hsm.js';
import { requireQuantumSafe } from '../quantum-safe.js';
import { digestAttribute, generatedObjectAttributes } from '../server-attributes.js';
import { withFullUsageCount } from '../usage-limits.js';
import { handler, type RequestContext } from '../context.js';
import { requireStorage } from '../protection-storage.js';
import { errors } from '../errors.js';
import {
  activationState,
  enumAttribute,
  newUid,
  ObjectType,
  serverAttributes,
  single,
  toStored,
  type ManagedObject,
  type Material,
} from '../managed-object.js';
import { link, LinkType } from '../links.js';
import { KeyFormat } from '../object-payloads.js';
import { clientAttributes } from '../template.js';
import { UsageMask } from './create.js';

const T = tags(
  'PrivateKeyUniqueIdentifier',
  'PublicKeyUniqueIdentifier',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CryptographicUsageMask',
  'RecommendedCurve',
  'PublicKey',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
);
const Algorithm = enumValues('CryptographicAlgorithm', 'RSA', 'DSA', 'ECDSA', 'EC');
const Curve = enumValues('RecommendedCurve', 'P_256', 'P_384', 'P_521', 'SECP256K1');

/** The attributes a key-pair request asks for: for both keys, and for each key alone. */
export interface PairTemplates {
  readonly common: Attribute[];
  readonly privateOnly: Attribute[];
  readonly publicOnly: Attribute[];
}

/**
 * The three attribute sets of Create Key Pair and Re-key Key Pair: 1.x Template-Attribute structures (1.4 §4.2
 * Table 166), 2.x Attributes structures (2.1 §6.1.9 Table 189).
 */
export function readPairTemplates(payload: Fields | undefined, ctx: RequestContext): PairTemplates {
  const v2 = ctx.version.startsWith('2.');
  return {
    common: clientAttributes(payload?.struct(v2 ? 'CommonAttributes' : 'CommonTemplateAttribute'), ctx),
    privateOnly: clientAttributes(
      payload?.struct(v2 ? 'PrivateKeyAttributes' : 'PrivateKeyTemplateAttribute'),
      ctx,
    ),
    publicOnly: clientAttributes(
      payload?.struct(v2 ? 'PublicKeyAttributes' : 'PublicKeyTemplateAttribute'),
      ctx,
    ),
  };
}

const curveByValue = new Map<number, CurveName>([
  [Curve.P_256, 'P-256'],
  [Curve.P_384, 'P-384'],
  [Curve.P_521, 'P-521'],
  [Curve.SECP256K1, 'secp256k1'],
]);
/** A curve's Cryptographic Length: the bit size of its order (P-521's is 521). */
const curveBits: Readonly<Record<CurveName, number>> = {
  'P-256': 256,
  'P-384': 384,
  'P-521': 521,
  secp256k1: 256,
};

/** A length alone names a NIST curve, as the 1.x profile vectors expect. */
const curveByLength = new Map<number, CurveName>([
  [256, 'P-256'],
  [384, 'P-384'],
  [521, 'P-521'],
]);

/** The token's key-pair spec for the request's algorithm, length and curve. */
export function pairSpec(attributes: readonly Attribute[], ctx: RequestContext): KeyPairSpec {
  const algorithm = enumAttribute(attributes, 'CryptographicAlgorithm');
  const length = single(attributes, 'CryptographicLength');
  const bits = length?.type === ItemType.Integer ? length.value : undefined;
  if (algorithm === Algorithm.RSA || algorithm === Algorithm.DSA) {
    if (bits === undefined)
      throw errors.invalidField('Create Key Pair needs a Cryptographic Length for RSA and DSA');
    const max = algorithm === Algorithm.RSA ? 4096 : 3072;
    if (bits < 1024 || bits > max || bits % 8 !== 0) {
      throw errors.invalidField(`${bits} is not a supported Cryptographic Length (1024-${max})`);
    }
    return algorithm === Algorithm.RSA ? { algorithm: 'RSA', bits } : { algorithm: 'DSA', bits };
  }
  if (algorithm === Algorithm.ECDSA || algorithm === Algorithm.EC) {
    const params = single(attributes, 'CryptographicDomainParameters');
    const recommended =
      params?.type === ItemType.Structure
        ? params.value.find((c) => c.tag === T.RecommendedCurve)
        : single(attributes, 'RecommendedCurve');
    const curve =
      recommended?.type === ItemType.Enumeration
        ? curveByValue.get(recommended.value)
        : bits === undefined
          ? undefined
          : curveByLength.get(bits);
    if (!curve)
      throw errors.invalidField(
        'Create Key Pair for EC needs curve P-256, P-384, P-521 or SECP256K1 (Recommended Curve, or the length of a P curve)',
      );
    return { algorithm: 'EC', curve };
  }
  const name =
    algorithm === undefined
      ? 'none'
      : (registryFor(ctx.version).enumName(T.CryptographicAlgorithm, algorithm) ?? String(algorithm));
  throw errors.invalidField(`Create Key Pair makes RSA, DSA and EC key pairs, not ${name}`);
}

export function withDefaults(attributes: Attribute[], bits: number, mask: number): Attribute[] {
  const out = [...attributes];
  if (!single(out, 'CryptographicUsageMask'))
    out.push({ kind: 'standard', value: ttlv.integer(T.CryptographicUsageMask, mask) });
  if (!single(out, 'CryptographicLength'))
    out.push({ kind: 'standard', value: ttlv.integer(T.CryptographicLength, bits) });
  return out;
}

/** One half of a generated pair: its material, the attributes that describe it, its default usage mask. */
export interface GeneratedHalf {
  readonly material: Material;
  /** Digest (KMIP 1.4 §3.17) and Key Format Type (2.1 §4.26) of the form Get serves it in by default. */
  readonly attributes: Attribute[];
  readonly mask: number;
}

/**
 * A key pair generated inside the token (Create Key Pair, Re-key Key Pair): the private key sealed, the public key
 * in clear (PKCS#1 for RSA, X.509 SubjectPublicKeyInfo otherwise), each with its Digest and Key Format Type, and
 * the usage masks that apply when the request has none (sign-only for EC and DSA).
 */
export async function generatePair(
  spec: KeyPairSpec,
  algorithmItem: TtlvItem | undefined,
  owner: string,
  ctx: RequestContext,
): Promise<{ bits: number; spki: Uint8Array; privateKey: GeneratedHalf; publicKey: GeneratedHalf }> {
  const pair = await ctx.keys.hsm.generateKeyPair(await ctx.keys.kekFor(owner), spec);
  const publicKey = createPublicKey({ key: Buffer.from(pair.publicKeySpki), format: 'der', type: 'spki' });
  const bits = spec.algorithm === 'EC' ? curveBits[spec.curve] : spec.bits;
  const rsa = spec.algorithm === 'RSA';
  const publicDer = rsa
    ? publicKey.export({ format: 'der', type: 'pkcs1' })
    : Buffer.from(pair.publicKeySpki);
  const digests = await pairDigests(pair.privateKey, publicDer, rsa, owner, ctx);
  const publicFormat = rsa ? KeyFormat.PKCS_1 : KeyFormat.X_509;
  const structure = ttlv.structure(T.PublicKey, [
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, publicFormat),
      ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, publicDer)]),
      ...(algorithmItem ? [algorithmItem] : []),
      ttlv.integer(T.CryptographicLength, bits),
    ]),
  ]);
  const signOnly = spec.algorithm !== 'RSA';
  return {
    bits,
    spki: pair.publicKeySpki,
    privateKey: {
      material: { kind: 'sealed-key', sealed: pair.privateKey },
      attributes: [
        digests.privateKey,
        // The forms a 2.x Get serves them in by default (KMIP 2.1 §4.26 Key Format Type; object-payloads.ts
        // readStructure): an RSA private key as PKCS#1, the form its Digest is taken over, as the reference server
        // of the AKLC-M-1 vectors answers; other private keys as PKCS#8.
        {
          kind: 'standard',
          value: ttlv.enumeration(T.KeyFormatType, rsa ? KeyFormat.PKCS_1 : KeyFormat.PKCS_8),
        },
      ],
      mask: signOnly ? UsageMask.Sign : UsageMask.Sign | UsageMask.Decrypt,
    },
    publicKey: {
      material: { kind: 'clear-object', bytes: Uint8Array.from(encodeTtlv(structure)) },
      attributes: [
        digests.publicKey,
        { kind: 'standard', value: ttlv.enumeration(T.KeyFormatType, publicFormat) },
      ],
      mask: signOnly ? UsageMask.Verify : UsageMask.Verify | UsageMask.Encrypt,
    },
  };
}

/**
 * Create Key Pair (KMIP 1.4 §4.2): generated inside the token without stalling other requests; the private key is
 * sealed, the public key kept in clear (PKCS#1 for RSA, X.509 SubjectPublicKeyInfo otherwise). Usage masks default
 * when the request has none (Barbican sends none). Each key links to the other; the ID placeholder becomes the
 * private key.
 */
export const createKeyPair = handler({
  operation: 'CreateKeyPair',
  since: '1.0',
  access: 'create',
  decodeRequest(payload, ctx) {
    requireStorage(payload, 'CommonProtectionStorageMasks', ctx);
    requireStorage(payload, 'PrivateProtectionStorageMasks', ctx);
    requireStorage(payload, 'PublicProtectionStorageMasks', ctx);
    return readPairTemplates(payload, ctx);
  },
  async execute(request: PairTemplates, ctx) {
    const privateAttrs = withFullUsageCount([...request.common, ...request.privateOnly]);
    const publicAttrs = withFullUsageCount([...request.common, ...request.publicOnly]);
    requireQuantumSafe(ObjectType.PrivateKey, privateAttrs);
    requireQuantumSafe(ObjectType.PublicKey, publicAttrs);
    const spec = pairSpec(privateAttrs, ctx);
    const owner = ctx.principal.name;
    const pair = await generatePair(spec, single(privateAttrs, 'CryptographicAlgorithm'), owner, ctx);
    const privateUid = newUid();
    const publicUid = newUid();
    const half = (
      uid: string,
      objectType: number,
      attributes: Attribute[],
      toOther: Attribute,
      generated: GeneratedHalf,
    ): ManagedObject => ({
      uid,
      revision: 1,
      owner,
      attributes: [
        ...serverAttributes(ctx, uid, objectType, activationState(attributes, ctx)),
        ...withDefaults(attributes, pair.bits, generated.mask),
        toOther,
        ...generated.attributes,
        ...generatedObjectAttributes(attributes, ctx),
      ],
      material: generated.material,
    });
    const privateObject = half(
      privateUid,
      ObjectType.PrivateKey,
      privateAttrs,
      link(LinkType.PublicKeyLink, publicUid),
      pair.privateKey,
    );
    const publicObject = half(
      publicUid,
      ObjectType.PublicKey,
      publicAttrs,
      link(LinkType.PrivateKeyLink, privateUid),
      pair.publicKey,
    );
    // Both keys in one atomic commit: a client never sees half a pair.
    await ctx.store.commit({
      put: [
        { object: toStored(privateObject, 1), expectedRevision: 0 },
        { object: toStored(publicObject, 1), expectedRevision: 0 },
      ],
    });
    ctx.touched.push(privateUid, publicUid);
    ctx.idPlaceholder.current = privateUid;
    return { privateUid, publicUid };
  },
  encodeResponse(response: { privateUid: string; publicUid: string }): TtlvItem[] {
    return [
      ttlv.textString(T.PrivateKeyUniqueIdentifier, response.privateUid),
      ttlv.textString(T.PublicKeyUniqueIdentifier, response.publicUid),
    ];
  },
});

/**
 * The Digests of a new pair (KMIP 1.4 §3.17), over the forms Get serves by default: PKCS#1 for RSA keys, PKCS#8 and
 * X.509 otherwise. The private key's form must be read to be hashed: it is unsealed by the token, converted, given
 * to the token's digest and zeroed, once, at creation, the same exposure as a Get of it (DESIGN.md "Plaintext key
 * bytes"); a token that could digest a private key object (C_DigestKey takes secret keys only) would avoid it.
 */
async function pairDigests(
  sealed: SealedSecret,
  publicDer: Uint8Array,
  rsa: boolean,
  owner: string,
  ctx: RequestContext,
): Promise<{ privateKey: Attribute; publicKey: Attribute }> {
  const publicKey = await digestAttribute(publicDer, rsa ? KeyFormat.PKCS_1 : KeyFormat.X_509, ctx);
  const pkcs8 = await ctx.keys.unseal(owner, sealed);
  let form: Uint8Array = pkcs8;
  try {
    if (rsa) {
      form = createPrivateKey({ key: Buffer.from(pkcs8), format: 'der', type: 'pkcs8' }).export({
        format: 'der',
        type: 'pkcs1',
      });
    }
    const privateKey = await digestAttribute(form, rsa ? KeyFormat.PKCS_1 : KeyFormat.PKCS_8, ctx);
    return { privateKey, publicKey };
  } finally {
    form.fill(0);
    pkcs8.fill(0);
  }
}
