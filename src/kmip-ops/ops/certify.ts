import { ItemType, type TtlvItem } from '../../ttlv/types.js';
import type { StoreChange } from '../../store/store.js';
import type { Attribute } from '../../kmip/attributes.js';
import type { Fields } from '../../kmip/fields.js';
import { enumValues } from '../../kmip/vocabulary.js';
import { PkiParseError, readCsr as readPkcs10 } from '../../pki/parse.js';
import { x509 } from '../../pki/x509.js';
import { certificateStructure, tokenSignedCertificate } from '../certify-authority.js';
import { handler, type RequestContext } from '../context.js';
import { errors, KmipError } from '../errors.js';
import { link, LinkType, linkedUid, linkTypeOf } from '../links.js';
import {
  loadObject,
  nextRevisionPut,
  ObjectType,
  objectTypeOf,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import { KeyFormat, keyMaterialOf, objectForGet } from '../object-payloads.js';
import { attributeContainer, clientAttributes } from '../template.js';
import { storeStructure } from './register.js';

const RequestType = enumValues('CertificateRequestType', 'CRMF', 'PKCS_10', 'PEM', 'PGP');

/** A year: what a lab certificate from Certify is valid for. */
const CERTIFICATE_LIFETIME_MS = 365 * 24 * 3600 * 1000;

/** The extensions of a CSR's extension request that the issued certificate carries (RFC 5280 §4.2.1.3, .6, .12). */
const copiedExtensions = new Set(['2.5.29.15', '2.5.29.17', '2.5.29.37']);

export interface CertifyRequest {
  readonly uid: string | undefined;
  readonly requestType: number | undefined;
  readonly request: Uint8Array | undefined;
  readonly attributes: Attribute[];
}

/** The Certify and Re-certify request payload (1.4 §4.7-4.8, 2.1 §6.1.7, §6.1.40): the same fields. */
export function readCertifyRequest(payload: Fields | undefined, ctx: RequestContext): CertifyRequest {
  const requestType = payload?.enumeration('CertificateRequestType');
  // KMIP 1.x names the field Certificate Request; 2.x Certificate Request Value.
  const request = ctx.version.startsWith('2.')
    ? payload?.bytes('CertificateRequestValue')
    : payload?.bytes('CertificateRequest');
  if (request !== undefined && requestType === undefined)
    throw errors.invalidField('a Certificate Request needs its Certificate Request Type');
  const attributes = payload
    ? clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx)
    : [];
  // The certificate's Links are the server's to set: its public key, its issuer, the certificate it replaces.
  if (attributes.some((a) => linkTypeOf(a) !== undefined)) {
    throw errors.invalidField(
      'a Certify or Re-certify request may not give Link attributes; the server sets them',
    );
  }
  return {
    uid: payload?.text('UniqueIdentifier'),
    requestType,
    request,
    attributes: payload
      ? clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx)
      : [],
  };
}

/** The PKCS#10 request of a Certify, its signature checked (RFC 2986 §4.2: the requester holds the private key). */
export async function readCsr(request: CertifyRequest): Promise<CertificateContent> {
  if (request.request === undefined) {
    throw errors.featureNotSupported(
      'Certify here needs a Certificate Request (PKCS#10, as DER or PEM): the subject comes from it',
    );
  }
  if (request.requestType !== RequestType.PKCS_10 && request.requestType !== RequestType.PEM) {
    throw errors.featureNotSupported(
      'only PKCS#10 and PEM certificate requests are accepted (not CRMF or PGP)',
    );
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    // The lab PKI's reader (src/pki/parse.ts): DER, or PEM with its label and strict base64, one CSR exactly.
    csr = readPkcs10(request.request);
  } catch (error) {
    const reason = error instanceof PkiParseError ? `: ${error.message}` : '';
    throw errors.invalidCsr(`the Certificate Request is not a readable PKCS#10 request${reason}`, error);
  }
  let content: CertificateContent;
  try {
    // The library parses these on first use: read them here, so that a malformed one is the request's fault.
    content = requestedContent(csr);
    checkExtensions(content.extensions);
  } catch (error) {
    if (error instanceof KmipError) throw error;
    throw errors.invalidCsr('the Certificate Request has a malformed subject, key or extension', error);
  }
  let valid: boolean;
  try {
    valid = await csr.verify();
  } catch (error) {
    throw errors.invalidCsr(
      'the Certificate Request signature cannot be checked (unsupported key or algorithm)',
      error,
    );
  }
  if (!valid)
    throw errors.invalidCsr(
      'the Certificate Request signature does not verify: it was altered, or signed by another key',
    );
  return content;
}

/** Key usages an end-entity certificate of this CA may have (RFC 5280 §4.2.1.3): never certificate or CRL signing. */
const grantedKeyUsages =
  x509.KeyUsageFlags.digitalSignature |
  x509.KeyUsageFlags.nonRepudiation |
  x509.KeyUsageFlags.keyEncipherment |
  x509.KeyUsageFlags.dataEncipherment |
  x509.KeyUsageFlags.keyAgreement;

/** Extended key usages it grants (RFC 5280 §4.2.1.12): TLS server and client, e-mail; not OCSP or code signing. */
const grantedExtendedKeyUsages = new Set(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2', '1.3.6.1.5.5.7.3.4']);

/**
 * What a request may ask for in the extensions the certificate carries over: each extension once (RFC 5280 §4.2,
 * verifiers that read only the first of two subjectAltNames would disagree on the names), and only usages an
 * end-entity certificate may have. Anything else is refused, not silently dropped, so the client learns why.
 */
function checkExtensions(extensions: readonly x509.Extension[]): void {
  const seen = new Set<string>();
  for (const extension of extensions) {
    if (seen.has(extension.type))
      throw errors.invalidCsr(`the request gives extension ${extension.type} twice`);
    seen.add(extension.type);
    if (extension instanceof x509.KeyUsagesExtension && (extension.usages & ~grantedKeyUsages) !== 0) {
      throw errors.invalidCsr(
        'the request asks for certificate or CRL signing, which an end-entity certificate may not do',
      );
    }
    if (extension instanceof x509.ExtendedKeyUsageExtension) {
      const refused = extension.usages.map(String).filter((usage) => !grantedExtendedKeyUsages.has(usage));
      if (refused.length > 0) {
        throw errors.invalidCsr(
          `the request asks for extended key usage ${refused.join(', ')}; this CA grants serverAuth, clientAuth and emailProtection only`,
        );
      }
    }
  }
}

/**
 * The public key object a Certify names (or the ID placeholder names), checked to hold the CSR's public key: the
 * certificate certifies that key, so a CSR of another key is refused rather than linked to the wrong object.
 */
async function certifiedKey(
  uid: string | undefined,
  content: CertificateContent,
  ctx: RequestContext,
): Promise<ManagedObject | undefined> {
  const resolved = uid ?? ctx.idPlaceholder.current;
  if (resolved === undefined) return undefined;
  const named = await loadObject(resolved, ctx);
  // After Create Key Pair the ID placeholder is the private key: its Public Key Link names the key to certify.
  const publicUid =
    objectTypeOf(named) === ObjectType.PrivateKey ? linkedUid(named, LinkType.PublicKeyLink) : undefined;
  const object = publicUid === undefined ? named : await loadObject(publicUid, ctx);
  if (objectTypeOf(object) !== ObjectType.PublicKey) {
    throw errors.invalidField(`object ${resolved} is not a Public Key: Certify certifies a public key`);
  }
  const structure = await objectForGet(object, ObjectType.PublicKey, ctx, KeyFormat.X_509);
  const spki = keyMaterialOf(structure);
  const same =
    spki?.type === ItemType.ByteString &&
    Buffer.from(spki.value).equals(Buffer.from(content.publicKey.rawData));
  if (!same) {
    throw errors.invalidField(`the Certificate Request is for another key than public key ${resolved}`);
  }
  return object;
}

/** What a certificate from the issuing CA states: the subject, its key, and the extensions it asked for. */
export interface CertificateContent {
  readonly subject: x509.Name;
  readonly publicKey: x509.PublicKey;
  /** Only subjectAltName, key usage and extended key usage are kept (copiedExtensions). */
  readonly extensions: readonly x509.Extension[];
}

/** What a PKCS#10 request asks to be certified. */
function requestedContent(csr: x509.Pkcs10CertificateRequest): CertificateContent {
  return { subject: csr.subjectName, publicKey: csr.publicKey, extensions: csr.extensions };
}

/** An end-entity certificate for a subject and key, signed inside the token by the appliance's issuing CA. */
export async function issueCertificate(
  content: CertificateContent,
  ctx: RequestContext,
): Promise<{ der: Uint8Array; caUid: string }> {
  const ca = await ctx.certifyAuthority.issuer(ctx);
  const certificate = await tokenSignedCertificate(
    {
      subject: content.subject,
      issuer: ca.certificate.subjectName,
      lifetimeMs: CERTIFICATE_LIFETIME_MS,
      publicKey: content.publicKey,
      extensions: [
        // RFC 5280 §4.2.1.9: never a CA, whatever the request asks.
        new x509.BasicConstraintsExtension(false, undefined, true),
        await x509.SubjectKeyIdentifierExtension.create(content.publicKey),
        await x509.AuthorityKeyIdentifierExtension.create(ca.certificate),
        ...content.extensions.filter((extension) => copiedExtensions.has(extension.type)),
      ],
    },
    ca.sign,
  );
  return { der: new Uint8Array(certificate.rawData), caUid: ca.certificateUid };
}

/** The public key with a Certificate Link to the new certificate (1.4 §4.7), written in the certificate's commit. */
export function linkedPublicKey(
  key: ManagedObject,
  certificateUid: string,
  ctx: RequestContext,
): NonNullable<StoreChange['put']>[number] {
  // One Certificate Link: the key's current certificate (Re-certify moves it, 1.4 §4.8).
  const others = key.attributes.filter((a) => linkTypeOf(a) !== LinkType.CertificateLink);
  return nextRevisionPut(key, [...others, link(LinkType.CertificateLink, certificateUid)], ctx);
}

/**
 * Certify (KMIP 1.4 §4.7, 2.1 §6.1.7): a certificate for a PKCS#10 request, signed by the appliance's issuing CA
 * inside the token (certify-authority.ts). With a public key object named (or the ID placeholder set), the request
 * must be for that key, and the two are linked both ways. The ID placeholder becomes the certificate.
 */
export const certify = handler({
  operation: 'Certify',
  since: '1.0',
  access: 'create',
  decodeRequest(payload, ctx): CertifyRequest {
    return readCertifyRequest(payload, ctx);
  },
  async execute(request: CertifyRequest, ctx) {
    const content = await readCsr(request);
    const key = await certifiedKey(request.uid, content, ctx);
    const issued = await issueCertificate(content, ctx);
    const uid = await storeStructure(
      ObjectType.Certificate,
      [
        ...request.attributes,
        ...(key ? [link(LinkType.PublicKeyLink, key.uid)] : []),
        link(LinkType.CertificateLink, issued.caUid),
      ],
      certificateStructure(issued.der),
      ctx,
      [],
      (certificateUid) => (key ? [linkedPublicKey(key, certificateUid, ctx)] : []),
    );
    return uid;
  },
  encodeResponse(uid: string): TtlvItem[] {
    return uidResponse(uid);
  },
});
