/**
 * The managed key behind a cryptographic operation, as the Hsm takes it (KeyRef): the token holds it as a session
 * object under an id made of the object's UID and the kind of token object (an AES key used for HMAC is a generic
 * secret to the token), and asks for its source only when it does not hold it yet.
 *
 * Sources: keys the token generated are unwrapped by the token from their sealed form; registered keys (stored as
 * the whole object structure as registered) are unsealed and read in the form the token takes (Raw, PKCS#8,
 * X.509), the bytes zeroed once the Hsm has them; certificates give their public key.
 */
import { X509Certificate } from 'node:crypto';
import { ItemType, type TtlvItem } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import type { KeyRef, KeySource, SecretKeyType } from '../../hsm/hsm.js';
import type { RequestContext } from '../context.js';
import { errors } from '../errors.js';
import { enumAttribute, ObjectType, objectTypeOf, single, type ManagedObject } from '../managed-object.js';
import { child, KeyFormat, keyMaterialOf, objectForGet } from '../object-payloads.js';
import { Algorithm } from './parameters.js';

const T = tags('CertificateValue');

/** The kinds of token object one managed object may be held as: a secret key type, or a half of a pair. */
const heldKinds = ['AES', 'DES3', 'DES', 'GENERIC', 'private', 'public'] as const satisfies readonly (
  SecretKeyType | 'private' | 'public'
)[];

/** The id the token holds a managed object under, for one kind of token object. */
function heldId(uid: string, kind: (typeof heldKinds)[number]): string {
  return `${uid}/${kind}`;
}

/** How the operation uses the key: a secret key as a cipher key, as an HMAC key, or an asymmetric half. */
export type KeyUse = 'cipher' | 'hmac' | 'asymmetric';

function secretKeyType(object: ManagedObject, use: KeyUse): SecretKeyType {
  if (use === 'hmac') return 'GENERIC';
  const algorithm = enumAttribute(object.attributes, 'CryptographicAlgorithm');
  if (algorithm === Algorithm.AES) return 'AES';
  if (algorithm === Algorithm.DES3) return 'DES3';
  if (algorithm === Algorithm.DES) return 'DES';
  throw errors.invalidField(`object ${object.uid} is not an AES, 3DES or DES key`);
}

function asymmetricType(object: ManagedObject): 'RSA' | 'EC' | 'DSA' {
  const algorithm = enumAttribute(object.attributes, 'CryptographicAlgorithm');
  if (algorithm === Algorithm.RSA) return 'RSA';
  if (algorithm === Algorithm.EC || algorithm === Algorithm.ECDSA) return 'EC';
  if (algorithm === Algorithm.DSA) return 'DSA';
  throw errors.invalidField(`object ${object.uid} is not an RSA, EC or DSA key`);
}

/** The Key Material bytes of a Key Block in the form asked for (undefined: as stored). */
export async function materialBytes(
  object: ManagedObject,
  format: number | undefined,
  ctx: RequestContext,
): Promise<Uint8Array> {
  // KMIP 1.4 §3.41: a key registered without its value (Key Value Present False) has none here to use.
  const present = single(object.attributes, 'KeyValuePresent');
  if (present?.type === ItemType.Boolean && !present.value) {
    throw errors.keyValueNotPresent(`object ${object.uid} was registered without its Key Value`);
  }
  const structure = await objectForGet(object, objectTypeOf(object), ctx, format);
  const material = keyMaterialOf(structure);
  if (material?.type !== ItemType.ByteString) {
    throw errors.keyFormatTypeNotSupported(`object ${object.uid} holds no key bytes the token can use`);
  }
  return material.value;
}

function certificateSpki(structure: TtlvItem): Uint8Array {
  const value = child(structure, T.CertificateValue);
  if (value?.type !== ItemType.ByteString) throw errors.invalidField('the certificate has no value');
  return new X509Certificate(value.value).publicKey.export({ type: 'spki', format: 'der' });
}

/** The KeyRef of a managed object for a use; the object's type must fit the use (checked by the caller). */
export function keyRefFor(object: ManagedObject, use: KeyUse, ctx: RequestContext): KeyRef {
  const objectType = objectTypeOf(object);
  const material = object.material;
  if (!material) throw errors.wrongStateForUse(`object ${object.uid} has no key material`);
  switch (objectType) {
    case ObjectType.SymmetricKey: {
      const keyType = secretKeyType(object, use);
      return {
        id: heldId(object.uid, keyType),
        source: async (): Promise<KeySource> =>
          material.kind === 'sealed-key'
            ? {
                kind: 'sealed-secret',
                kek: await ctx.keys.kekFor(object.owner),
                sealed: material.sealed,
                keyType,
              }
            : { kind: 'secret-bytes', keyType, bytes: await materialBytes(object, KeyFormat.Raw, ctx) },
      };
    }
    case ObjectType.PrivateKey: {
      const keyType = asymmetricType(object);
      return {
        id: heldId(object.uid, 'private'),
        source: async (): Promise<KeySource> =>
          material.kind === 'sealed-key'
            ? {
                kind: 'sealed-private',
                kek: await ctx.keys.kekFor(object.owner),
                sealed: material.sealed,
                keyType,
              }
            : { kind: 'private-pkcs8', bytes: await materialBytes(object, KeyFormat.PKCS_8, ctx) },
      };
    }
    case ObjectType.PublicKey:
      return {
        id: heldId(object.uid, 'public'),
        source: async (): Promise<KeySource> => ({
          kind: 'public-spki',
          bytes: await materialBytes(object, KeyFormat.X_509, ctx),
        }),
      };
    case ObjectType.SecretData:
      // A password or seed as an HMAC key: Derive Key's PBKDF2 and HMAC methods (KMIP 1.4 §4.6).
      if (use !== 'hmac') throw errors.invalidField(`object ${object.uid} is Secret Data, not a key`);
      return {
        id: heldId(object.uid, 'GENERIC'),
        source: async (): Promise<KeySource> => ({
          kind: 'secret-bytes',
          keyType: 'GENERIC',
          bytes: await materialBytes(object, undefined, ctx),
        }),
      };
    case ObjectType.Certificate:
      return {
        id: heldId(object.uid, 'public'),
        source: async (): Promise<KeySource> => ({
          kind: 'public-spki',
          bytes: certificateSpki(await objectForGet(object, objectType, ctx, undefined)),
        }),
      };
    default:
      throw errors.invalidField(`object ${object.uid} is not a key`);
  }
}

/** Every id keyRefFor() may have used for an object, so that Destroy drops what the token holds. */
export function keyRefIds(uid: string): string[] {
  return heldKinds.map((kind) => heldId(uid, kind));
}
