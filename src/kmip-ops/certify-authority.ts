import { createPublicKey, randomBytes, randomFillSync, verify, webcrypto } from 'node:crypto';
import { ItemType, ttlv, type StructureItem } from '../ttlv/types.js';
import type { Attribute } from '../kmip/attributes.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import { x509 } from '../pki/x509.js';
import type { ObjectStore } from '../store/store.js';
import { principal, PUBLIC_OWNER } from './access.js';
import { link, LinkType, linkedUid } from './links.js';
import type { RequestContext } from './context.js';
import { keyRefFor } from './crypto/key-ref.js';
import { errors } from './errors.js';
import { child, objectForGet } from './object-payloads.js';
import {
  dateState,
  fromStored,
  newObjectPut,
  newUid,
  nowSeconds,
  ObjectType,
  serverAttributes,
  stateOf,
  toStored,
  type ManagedObject,
} from './managed-object.js';
import { generatePair, withDefaults } from './ops/create-key-pair.js';
import { newStructureObject } from './ops/register.js';
import { generatedObjectAttributes } from './server-attributes.js';

/**
 * The appliance's issuing CA for Certify and Re-certify (KMIP 1.4 §4.7-4.8): an RSA-2048 key pair generated inside
 * the token, whose private key is sealed like every other (and marked Sensitive, not Extractable), and a
 * self-signed CA certificate whose signature the token made. Both are managed objects, made on the first Certify:
 * the key of the server's own principal CERTIFY_CA_OWNER, which no client reaches, administrators included
 * (access.ts isServerOwned); the certificate public (PUBLIC_OWNER), for every client to Get (each certificate issued
 * links to it with a Certificate Link, 1.4 §3.35, "the parent certificate for a certificate in a certificate chain"),
 * and linked to the key, which is how a restart finds the pair again.
 *
 * It is not the lab CA that signs the TLS client certificates: a certificate from Certify never opens a connection
 * to this server, so Certify cannot mint a client an identity.
 */

export const CERTIFY_CA_OWNER = 'kmipd:certify-ca';
const CA_NAME = 'kmipd Certify CA';
const CA_KEY_NAME = 'kmipd Certify CA private key';
/** Ten years: the CA outlives the certificates it issues. */
const CA_LIFETIME_MS = 10 * 365 * 24 * 3600 * 1000;

const T = tags(
  'Name',
  'NameValue',
  'NameType',
  'Sensitive',
  'Extractable',
  'Certificate',
  'CertificateType',
  'CertificateValue',
  'CryptographicAlgorithm',
  'State',
  'Fresh',
  'ActivationDate',
);
const NameType = enumValues('NameType', 'UninterpretedTextString');
const CertificateType = enumValues('CertificateType', 'X_509');
const Algorithm = enumValues('CryptographicAlgorithm', 'RSA');
const State = enumValues('State', 'Active');
const Usage = enumValues('CryptographicUsageMask', 'CertificateSign', 'CRLSign');

/** What signs: the CA certificate (its Unique Identifier and its parsed form) and the token's signer. */
export interface IssuingCa {
  readonly certificateUid: string;
  readonly certificate: x509.X509Certificate;
  /** Signs a certificate's TBSCertificate DER with the CA key, inside the token (RSA PKCS#1 v1.5, SHA-256). */
  readonly sign: (tbs: Uint8Array) => Promise<Uint8Array>;
}

/** One per server (the Dispatcher holds it): the CA is looked up or made once, whatever the concurrency. */
export class CertifyAuthority {
  private loading: Promise<IssuingCa> | undefined;

  /** `store`: the server's store, not a request's (an Undo batch must not take the CA back). */
  constructor(private readonly store: ObjectStore) {}

  /**
   * The issuing CA, made inside the token on first use. Its certificate is read again each time: once an
   * administrator revokes, deactivates or destroys it, the next Certify looks for another or makes a new CA.
   */
  async issuer(ctx: RequestContext): Promise<IssuingCa> {
    const ca = await this.current(ctx);
    const stored = await this.store.get(ca.certificateUid);
    if (stored !== undefined && inUse(fromStored(stored), ctx)) return ca;
    if (this.loading !== undefined && (await this.loading) === ca) this.loading = undefined;
    return this.current(ctx);
  }

  private current(ctx: RequestContext): Promise<IssuingCa> {
    this.loading ??= this.load(ctx).catch((error: unknown) => {
      this.loading = undefined;
      throw error;
    });
    return this.loading;
  }

  /**
   * The newest CA certificate still in use, with the key its Private Key Link names, checked to be a pair by a
   * signature the token makes and node:crypto verifies. None such (first Certify, or an administrator destroyed or
   * revoked the certificate): a new CA.
   */
  private async load(ctx: RequestContext): Promise<IssuingCa> {
    const caCtx = asOwner({ ...ctx, store: this.store, undo: false }, CERTIFY_CA_OWNER);
    const candidates = await this.store.locate({
      owners: [PUBLIC_OWNER],
      name: CA_NAME,
      objectType: 'Certificate',
      state: 'Active',
      newestFirst: true,
    });
    for (const uid of candidates) {
      const stored = await this.store.get(uid);
      if (stored === undefined) continue;
      const certificateObject = fromStored(stored);
      const keyUid = linkedUid(certificateObject, LinkType.PrivateKeyLink);
      const key = keyUid === undefined ? undefined : await this.store.get(keyUid);
      if (key?.owner !== CERTIFY_CA_OWNER) continue;
      const keyObject = fromStored(key);
      if (!inUse(keyObject, caCtx) || !inUse(certificateObject, caCtx)) continue;
      const certificate = new x509.X509Certificate(await certificateDer(certificateObject, caCtx));
      const sign = signer(keyObject, caCtx);
      if (!(await pairs(certificate, sign))) continue;
      return { certificateUid: certificateObject.uid, certificate, sign };
    }
    return this.create(caCtx);
  }

  private async create(caCtx: RequestContext): Promise<IssuingCa> {
    const pair = await generatePair(
      { algorithm: 'RSA', bits: 2048 },
      ttlv.enumeration(T.CryptographicAlgorithm, Algorithm.RSA),
      CERTIFY_CA_OWNER,
      caCtx,
    );
    const keyUid = newUid();
    const now = nowSeconds(caCtx);
    const given: Attribute[] = [
      name(CA_KEY_NAME),
      { kind: 'standard', value: ttlv.enumeration(T.CryptographicAlgorithm, Algorithm.RSA) },
      { kind: 'standard', value: ttlv.boolean(T.Sensitive, true) },
      { kind: 'standard', value: ttlv.boolean(T.Extractable, false) },
      { kind: 'standard', value: ttlv.dateTime(T.ActivationDate, now) },
    ];
    const keyObject: ManagedObject = {
      uid: keyUid,
      revision: 1,
      owner: CERTIFY_CA_OWNER,
      attributes: [
        ...serverAttributes(caCtx, keyUid, ObjectType.PrivateKey, State.Active),
        ...withDefaults(given, pair.bits, Usage.CertificateSign | Usage.CRLSign),
        ...pair.privateKey.attributes,
        ...generatedObjectAttributes(given, caCtx),
      ],
      material: pair.privateKey.material,
    };
    const sign = signer(keyObject, caCtx);
    const publicKey = new x509.PublicKey(Uint8Array.from(pair.spki));
    const subject = `CN=${CA_NAME}`;
    const certificate = await tokenSignedCertificate(
      {
        subject,
        issuer: subject,
        lifetimeMs: CA_LIFETIME_MS,
        publicKey,
        extensions: [
          // RFC 5280 §4.2.1.9: critical in a CA certificate; path length 0, it signs end-entity certificates only.
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(publicKey),
        ],
      },
      sign,
    );
    // The certificate is public (access.ts PUBLIC_OWNER): every client may Get it to check what Certify issues.
    const certificateObject = await newStructureObject(
      ObjectType.Certificate,
      [
        name(CA_NAME),
        // The key is the server's own, hidden from every client; the link is how a restart finds it.
        link(LinkType.PrivateKeyLink, keyUid),
        { kind: 'standard', value: ttlv.dateTime(T.ActivationDate, now) },
        // Never "served" in KMIP's sense: any client's Get reads it, and must not change it (Fresh, 1.4 §3.34).
        { kind: 'standard', value: ttlv.boolean(T.Fresh, false) },
      ],
      certificateStructure(new Uint8Array(certificate.rawData)),
      asOwner(caCtx, PUBLIC_OWNER),
    );
    // Key and certificate in one commit: a restart never finds one without the other.
    await this.store.commit({
      put: [{ object: toStored(keyObject, 1), expectedRevision: 0 }, newObjectPut(certificateObject)],
    });
    return { certificateUid: certificateObject.uid, certificate, sign };
  }
}

/** The X.509 DER a Certificate object holds. */
export async function certificateDer(object: ManagedObject, ctx: RequestContext): Promise<Uint8Array> {
  const value = child(await objectForGet(object, ObjectType.Certificate, ctx, undefined), T.CertificateValue);
  if (value?.type !== ItemType.ByteString)
    throw errors.invalidField(`object ${object.uid} holds no certificate`);
  return value.value;
}

/** A Certificate object structure (KMIP 1.4 §2.2.1) around X.509 DER. */
export function certificateStructure(der: Uint8Array): StructureItem {
  return ttlv.structure(T.Certificate, [
    ttlv.enumeration(T.CertificateType, CertificateType.X_509),
    ttlv.byteString(T.CertificateValue, der),
  ]);
}

/** What a certificate the CA signs states, besides its serial (random) and validity (from a minute ago). */
export interface CertificateFields {
  readonly subject: x509.Name | string;
  readonly issuer: x509.Name | string;
  readonly lifetimeMs: number;
  readonly publicKey: x509.PublicKey;
  readonly extensions: readonly x509.Extension[];
}

/**
 * A certificate signed by `sign`, the CA key inside the token (RSA PKCS#1 v1.5 with SHA-256), with a random serial
 * and a validity that starts a minute ago (a client clock a little behind still accepts it).
 */
export async function tokenSignedCertificate(
  fields: CertificateFields,
  sign: (tbs: Uint8Array) => Promise<Uint8Array>,
): Promise<x509.X509Certificate> {
  const notBefore = new Date(Date.now() - 60_000);
  return x509.X509CertificateGenerator.create(
    {
      serialNumber: serialNumber(),
      subject: fields.subject,
      issuer: fields.issuer,
      notBefore,
      notAfter: new Date(notBefore.getTime() + fields.lifetimeMs),
      publicKey: fields.publicKey,
      signingKey: tokenSigningKey,
      signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      extensions: [...fields.extensions],
    },
    tokenCrypto(sign),
  );
}

/** A random positive 16-byte serial (RFC 5280 §4.1.2.2: unique per CA, at most 20 octets), as hex. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return bytes.toString('hex');
}

/**
 * @peculiar/x509 signs through WebCrypto's subtle.sign(algorithm, key, data) of the crypto it is given. This one
 * sends the data to the token instead; nothing else of it is used (the serial, names and extensions are made
 * beforehand with the platform's crypto).
 */
function tokenCrypto(sign: (tbs: Uint8Array) => Promise<Uint8Array>): webcrypto.Crypto {
  const subtle = {
    sign: async (
      _algorithm: unknown,
      _key: unknown,
      data: ArrayBuffer | ArrayBufferView,
    ): Promise<ArrayBuffer> => {
      const bytes = ArrayBuffer.isView(data)
        ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
        : new Uint8Array(data);
      return Uint8Array.from(await sign(Uint8Array.from(bytes))).buffer;
    },
  };
  const getRandomValues = (array: Uint8Array): Uint8Array => randomFillSync(array);
  return { subtle, getRandomValues } as unknown as webcrypto.Crypto;
}

/** Stands for the CA key in @peculiar/x509's signature algorithm choice; the token holds the real one. */
const tokenSigningKey = {
  algorithm: { name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } },
  type: 'private',
  extractable: false,
  usages: ['sign'],
} as unknown as webcrypto.CryptoKey;

/** Whether a CA object is Active now, its dates applied (an administrator may have set a Deactivation Date). */
function inUse(object: ManagedObject, ctx: RequestContext): boolean {
  return dateState(object.attributes, stateOf(object), nowSeconds(ctx)) === State.Active;
}

/** Whether the key signs what the certificate's public key verifies: the two are one CA. */
async function pairs(
  certificate: x509.X509Certificate,
  sign: (tbs: Uint8Array) => Promise<Uint8Array>,
): Promise<boolean> {
  const probe = randomBytes(32);
  const signature = await sign(probe);
  const publicKey = createPublicKey({
    key: Buffer.from(certificate.publicKey.rawData),
    format: 'der',
    type: 'spki',
  });
  return verify('sha256', probe, publicKey, signature);
}

function signer(keyObject: ManagedObject, caCtx: RequestContext): (tbs: Uint8Array) => Promise<Uint8Array> {
  const key = keyRefFor(keyObject, 'asymmetric', caCtx);
  return (tbs) => caCtx.keys.hsm.sign(key, { algorithm: 'RSA', padding: 'PKCS1', hash: 'SHA-256' }, tbs);
}

/** The request context as one of the server's own principals, for its objects' KEK and owner; no ID placeholder. */
function asOwner(ctx: RequestContext, owner: string): RequestContext {
  return {
    ...ctx,
    principal: principal(owner, ['creator']),
    idPlaceholder: { current: undefined },
    touched: [],
  };
}

function name(value: string): Attribute {
  return {
    kind: 'standard',
    value: ttlv.structure(T.Name, [
      ttlv.textString(T.NameValue, value),
      ttlv.enumeration(T.NameType, NameType.UninterpretedTextString),
    ]),
  };
}
