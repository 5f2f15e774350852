/**
 * PKCS#12 containers (RFC 7292) in and out of the server: Get of a private key as one (pkcs12Served), and Register
 * of one, which stores its key and chain (readPkcs12ForRegister; see its comment).
 *
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
 * object used to protect data. The container itself is made and read by src/pki/pkcs12.ts.
 */
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import { decodePkcs12, encodePkcs12, Pkcs12Error, type Pkcs12Bag, type Pkcs12Read } from '../pki/pkcs12.js';
import { keyAlgorithmAttributes } from './certificate-attributes.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { linkedUids } from './links.js';
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
import { child, KeyFormat, keyMaterialOf, objectForGet, pkcs12Container } from './object-payloads.js';
import { servedValue } from './serving.js';

const T = tags(
  'Certificate',
  'CertificateType',
  'PKCS_12FriendlyName',
  'PrivateKey',
  'KeyBlock',
  'KeyFormatType',
  'KeyValue',
  'KeyMaterial',
  'SecretDataType',
  'CertificateValue',
);
const Link = enumValues(
  'LinkType',
  'PKCS_12CertificateLink',
  'PKCS_12PasswordLink',
  'PublicKeyLink',
  'CertificateLink',
);
const SecretDataType = enumValues('SecretDataType', 'Password');
const CertificateType = enumValues('CertificateType', 'X_509');
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
  const password = await passwordOf(key.attributes, `key ${key.uid}`, ctx);
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

/**
 * The value Get and Export serve (serving.ts servedValue), or, for a private key asked for as PKCS#12 without a Key
 * Wrapping Specification, the container with its chain (pkcs12Served): PKCS#12 is a container, not a key format to
 * convert to.
 */
export function servedValueOrContainer(
  object: ManagedObject,
  objectType: number,
  ctx: RequestContext,
  requested: Parameters<typeof servedValue>[3],
): ReturnType<typeof servedValue> {
  if (requested.format === KeyFormat.PKCS_12 && requested.wrapping === undefined)
    return pkcs12Served(object, ctx);
  return servedValue(object, objectType, ctx, requested);
}

/** At most one link of the types tried in order; more than one of a type is two chains (an error, §4.11). */
function onlyLink(object: ManagedObject, types: readonly number[], what: string): string | undefined {
  for (const type of types) {
    const uids = linkedUids(object.attributes, type);
    if (uids.length > 1) {
      throw errors.invalidField(
        `${what} ${object.uid} links to ${uids.length} certificates: more than one chain`,
      );
    }
    if (uids[0] !== undefined) return uids[0];
  }
  return undefined;
}

/**
 * The password the PKCS#12 Password Link among `attributes` names (KMIP 1.4 Table 330: "missing or multiple PKCS#12
 * Password Links" and a link to anything but a Password Secret Data are Invalid Field); it must be Active.
 */
async function passwordOf(
  attributes: readonly Attribute[],
  about: string,
  ctx: RequestContext,
): Promise<Uint8Array> {
  const uids = linkedUids(attributes, Link.PKCS_12PasswordLink);
  const uid = uids[0];
  if (uid === undefined || uids.length > 1) {
    throw errors.invalidField(
      `Key Format Type is PKCS#12, but ${about} has ${uids.length === 0 ? 'no' : 'several'} PKCS#12 Password Links`,
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
      `the PKCS#12 Password Link of ${about} names ${uid}, which is no Password Secret Data`,
    );
  }
  if (stateOf(secret) !== State.Active) {
    throw errors.wrongStateOfLinked(`the PKCS#12 password ${uid} is not Active`);
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
  const material = keyMaterialOf(structure);
  if (material?.type !== ItemType.ByteString)
    throw errors.generalFailure('the key has no Key Material bytes');
  return Uint8Array.from(material.value);
}

/** What Register stores for a PKCS#12 container: the private key, and its certificate chain. */
export interface Pkcs12Registration {
  /** The private key as Register takes a PKCS#8 key, with its algorithm and length. */
  readonly key: StructureItem;
  /** Attributes the key gets beyond the request's: the PKCS#12 Friendly Name found, when the request gave none. */
  readonly keyAttributes: readonly Attribute[];
  /** The chain's certificates, the root-most first and the key's own last, each with the attributes it gets. */
  readonly certificates: readonly {
    readonly structure: StructureItem;
    readonly attributes: readonly Attribute[];
  }[];
}

/**
 * Register of a Private Key whose Key Format Type is PKCS#12 (KMIP 1.4 §3.45, Table 330): the container opens with
 * the password of the request's PKCS#12 Password Link (one, to an Active Password Secret Data); the key stored is the
 * one under the request's PKCS#12 Friendly Name (caseIgnoreMatch), else the first, whose friendly name is then
 * recorded; its certificate is the one sharing its Local Key ID, else the one holding its public key, and the chain
 * goes on by issuer. The key is kept as PKCS#8 and each certificate becomes a Certificate object, linked by PKCS#12
 * Certificate Links as a Get of PKCS#12 follows them (register.ts writes them all in one commit).
 */
export async function readPkcs12ForRegister(
  requested: readonly Attribute[],
  structure: StructureItem,
  ctx: RequestContext,
): Promise<Pkcs12Registration> {
  const password = await passwordOf(requested, 'the request', ctx);
  let read: Pkcs12Read;
  try {
    read = decodePkcs12(pkcs12Container(structure), password);
  } catch (error) {
    if (error instanceof Pkcs12Error) throw errors.invalidField(`the PKCS#12 container: ${error.message}`);
    throw error;
  } finally {
    password.fill(0);
  }
  const asked = single(requested, 'PKCS_12FriendlyName');
  const wanted = asked?.type === ItemType.TextString ? asked.value.toLowerCase() : undefined;
  const bag =
    wanted === undefined ? read.keys[0] : read.keys.find((k) => k.friendlyName?.toLowerCase() === wanted);
  if (bag === undefined) {
    throw errors.invalidField(
      wanted === undefined
        ? 'the PKCS#12 container holds no private key'
        : `the PKCS#12 container holds no private key under the friendly name "${wanted}"`,
    );
  }
  // The keys not taken are dropped here; the one taken goes into the structure Register seals.
  for (const other of read.keys) if (other !== bag) other.der.fill(0);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: Buffer.from(bag.der), format: 'der', type: 'pkcs8' });
  } catch (error) {
    throw errors.invalidField('the private key in the PKCS#12 container does not parse', error);
  }
  const key = ttlv.structure(T.PrivateKey, [
    ttlv.structure(T.KeyBlock, [
      ttlv.enumeration(T.KeyFormatType, KeyFormat.PKCS_8),
      ttlv.structure(T.KeyValue, [ttlv.byteString(T.KeyMaterial, bag.der)]),
      ...keyAlgorithmAttributes(privateKey),
    ]),
  ]);
  const friendly = asked === undefined && bag.friendlyName !== undefined ? bag.friendlyName : undefined;
  const friendlyAttribute = (name: string): Attribute => ({
    kind: 'standard',
    value: ttlv.textString(T.PKCS_12FriendlyName, name),
  });
  const chain = certificateChain(privateKey, bag, read.certificates);
  const leafName = asked?.type === ItemType.TextString ? asked.value : friendly;
  return {
    key,
    keyAttributes: friendly === undefined ? [] : [friendlyAttribute(friendly)],
    certificates: chain
      .map((der, i) => ({
        structure: ttlv.structure(T.Certificate, [
          ttlv.enumeration(T.CertificateType, CertificateType.X_509),
          ttlv.byteString(T.CertificateValue, der),
        ]),
        attributes: i === 0 && leafName !== undefined ? [friendlyAttribute(leafName)] : [],
      }))
      .reverse(),
  };
}

/**
 * The key's certificate and its issuers, the key's first, at most MAX_CHAIN of them (as Get follows them);
 * certificates outside that chain are left out.
 */
function certificateChain(
  privateKey: KeyObject,
  bag: Pkcs12Bag,
  certificates: readonly Pkcs12Bag[],
): Uint8Array[] {
  const parsed = certificates.flatMap((c) => {
    try {
      return [{ bag: c, x509: new X509Certificate(c.der) }];
    } catch {
      return [];
    }
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const leaf =
    parsed.find((c) => bag.localKeyId !== undefined && c.bag.localKeyId === bag.localKeyId) ??
    parsed.find((c) => c.x509.publicKey.export({ format: 'der', type: 'spki' }).equals(spki));
  if (leaf === undefined) return [];
  const chain = [leaf];
  for (let current = leaf; ;) {
    if (current.x509.checkIssued(current.x509)) break; // self-signed: the root
    const issuer = parsed.find((c) => !chain.includes(c) && current.x509.checkIssued(c.x509));
    if (issuer === undefined) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain.map((c) => c.bag.der);
}
