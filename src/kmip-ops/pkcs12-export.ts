/**
 * Get with Key Format Type PKCS#12 (KMIP 1.4 §4.11): "the response payload SHALL be a PKCS#12 container as
 * specified by [RFC7292]. The Unique Identifier SHALL be that of a private key to be included in the response. The
 * container SHALL be protected using the Secret Data object specified via the private key's Secret Data Link [the
 * PKCS#12 Password Link]. The current certificate chain SHALL also be included as determined by using the private
 * key's Public Key link to get the corresponding public key, and then using that public key's Certificate Link to
 * get the base certificate, and then using each certificate's Certificate Link to build the certificate chain. It is
 * an error if there is more than one valid certificate chain."
 *
 * KMIP 1.4 added the PKCS#12 Certificate Link (§3.35) for the same chain, set by the client on the key and on each
 * certificate (TC-PKCS12-1): it is followed first, and the Public Key / Certificate Links when the key has none.
 * The key is read as PKCS#8 the way Get serves it (serving.ts), so a key that is not Extractable, or is Sensitive,
 * is refused here too: a password is not a wrapping key (1.4 §3.48). The password object must be Active, as any
 * object used to protect data. The container itself is made by src/pki/pkcs12.ts.
 */
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import { encodePkcs12 } from '../pki/pkcs12.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { linkTypeOf } from './links.js';
import {
  loadObject,
  ObjectType,
  objectTypeOf,
  single,
  State,
  stateOf,
  type ManagedObject,
  type Material,
} from './managed-object.js';
import { child, KeyFormat, objectForGet } from './object-payloads.js';
import { servedValue } from './serving.js';

const T = tags(
  'PrivateKey',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
  'SecretDataType',
  'CertificateValue',
  'LinkedObjectIdentifier',
);
const Link = enumValues(
  'LinkType',
  'PKCS_12CertificateLink',
  'PKCS_12PasswordLink',
  'PublicKeyLink',
  'CertificateLink',
);
const SecretDataType = enumValues('SecretDataType', 'Password');
/** Links followed from one certificate to its issuer's; a longer chain is taken for a loop of links. */
const MAX_CHAIN = 16;

/** The Get answer's Private Key structure, holding the PKCS#12 container; `resealed` as servedValue gives it. */
export async function pkcs12Served(
  key: ManagedObject,
  ctx: RequestContext,
): Promise<{ readonly structure: TtlvItem; readonly resealed: Material | undefined }> {
  if (objectTypeOf(key) !== ObjectType.PrivateKey) {
    throw errors.keyFormatTypeNotSupported(
      'a PKCS#12 container holds a private key: ask it of a Private Key',
    );
  }
  const password = await passwordOf(key, ctx);
  const certificates: Uint8Array[] = [];
  try {
    for (const certificate of await chainOf(key, ctx))
      certificates.push(await certificateValue(certificate, ctx));
    const served = await servedValue(key, ObjectType.PrivateKey, ctx, {
      format: KeyFormat.PKCS_8,
      wrapping: undefined,
      keyWrapType: undefined,
    });
    const pkcs8 = keyMaterial(served.structure);
    try {
      const friendly = single(key.attributes, 'PKCS_12FriendlyName');
      const container = encodePkcs12({
        privateKeyPkcs8: pkcs8,
        certificates,
        password,
        friendlyName: friendly?.type === ItemType.TextString ? friendly.value : 'alias',
      });
      // Where the container sits differs by version, and clients follow their version's test cases: KMIP 1.4's
      // (TC-PKCS12-1-14, -2-14) give it as the Key Value itself, a Byte String, as 1.4 §2.1.4 does a wrapped Key
      // Value; 2.0's (TC-PKCS12-1-20, -2-20) as the Key Material of a plaintext Key Value structure.
      const value = ctx.version.startsWith('2.')
        ? ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, container)])
        : ttlv.byteString(T.KeyValue, container);
      const structure = ttlv.structure(T.PrivateKey, [
        ttlv.structure(T.KeyBlock, [ttlv.enumeration(T.KeyFormatType, KeyFormat.PKCS_12), value]),
      ]);
      return { structure, resealed: served.resealed };
    } finally {
      pkcs8.fill(0);
    }
  } finally {
    password.fill(0);
  }
}

/** The UIDs an object links to with a Link Type. */
function linked(object: ManagedObject, type: number): string[] {
  return object.attributes.flatMap((a) => {
    if (linkTypeOf(a) !== type || a.value.type !== ItemType.Structure) return [];
    const target = a.value.value.find((c) => c.tag === T.LinkedObjectIdentifier);
    return target?.type === ItemType.TextString ? [target.value] : [];
  });
}

/** At most one link of the types tried in order; more than one of a type is two chains (an error, §4.11). */
function onlyLink(object: ManagedObject, types: readonly number[], what: string): string | undefined {
  for (const type of types) {
    const uids = linked(object, type);
    if (uids.length > 1) {
      throw errors.invalidField(
        `${what} ${object.uid} links to ${uids.length} certificates: more than one chain`,
      );
    }
    if (uids[0] !== undefined) return uids[0];
  }
  return undefined;
}

async function passwordOf(key: ManagedObject, ctx: RequestContext): Promise<Uint8Array> {
  const uids = linked(key, Link.PKCS_12PasswordLink);
  const uid = uids[0];
  if (uid === undefined || uids.length > 1) {
    throw errors.invalidField(
      `Key Format Type is PKCS#12, but the key has ${uids.length === 0 ? 'no' : 'several'} PKCS#12 Password Links`,
    );
  }
  const secret = await loadObject(uid, ctx);
  const structure =
    objectTypeOf(secret) === ObjectType.SecretData
      ? await objectForGet(secret, ObjectType.SecretData, ctx, undefined)
      : undefined;
  const dataType = child(structure, T.SecretDataType);
  if (
    structure === undefined ||
    dataType?.type !== ItemType.Enumeration ||
    dataType.value !== SecretDataType.Password
  ) {
    throw errors.invalidField(
      `the PKCS#12 Password Link of ${key.uid} names ${uid}, which is no Password Secret Data`,
    );
  }
  if (stateOf(secret) !== State.Active) {
    throw errors.wrongStateForUse(`the PKCS#12 password ${uid} is not Active`);
  }
  return keyMaterial(structure);
}

/** The certificates of the key's chain, its own first (see the file comment). */
async function chainOf(key: ManagedObject, ctx: RequestContext): Promise<ManagedObject[]> {
  let next = onlyLink(key, [Link.PKCS_12CertificateLink], 'private key');
  if (next === undefined) {
    const publicUid = onlyLink(key, [Link.PublicKeyLink], 'private key');
    if (publicUid !== undefined) {
      next = onlyLink(await loadObject(publicUid, ctx), [Link.CertificateLink], 'public key');
    }
  }
  const chain: ManagedObject[] = [];
  const seen = new Set<string>();
  while (next !== undefined) {
    if (chain.length >= MAX_CHAIN || seen.has(next)) {
      throw errors.invalidField(`the certificate links from ${key.uid} go round in a loop`);
    }
    const certificate = await loadObject(next, ctx);
    if (objectTypeOf(certificate) !== ObjectType.Certificate) {
      throw errors.invalidField(`the certificate chain of ${key.uid} names ${next}, which is no Certificate`);
    }
    chain.push(certificate);
    seen.add(next);
    next = onlyLink(certificate, [Link.PKCS_12CertificateLink, Link.CertificateLink], 'certificate');
  }
  return chain;
}

async function certificateValue(certificate: ManagedObject, ctx: RequestContext): Promise<Uint8Array> {
  const state = stateOf(certificate);
  if (state === State.Destroyed || state === State.DestroyedCompromised) {
    throw errors.objectDestroyed(`certificate ${certificate.uid} of the chain has been destroyed`);
  }
  const value = child(
    await objectForGet(certificate, ObjectType.Certificate, ctx, undefined),
    T.CertificateValue,
  );
  if (value?.type !== ItemType.ByteString)
    throw errors.generalFailure(`certificate ${certificate.uid} has no value`);
  return value.value;
}

/** The Key Material bytes of a Key Block structure (PKCS#8 key, password), as a copy the caller zeroes. */
function keyMaterial(structure: TtlvItem): Uint8Array {
  const material = child(child(child(structure, T.KeyBlock), T.KeyValue), T.KeyMaterial);
  if (material?.type !== ItemType.ByteString)
    throw errors.generalFailure('the key has no Key Material bytes');
  return Uint8Array.from(material.value);
}
