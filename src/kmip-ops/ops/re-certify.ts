import { X509Certificate } from 'node:crypto';
import type { TtlvItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { tags } from '../../kmip/vocabulary.js';
import { x509 } from '../../pki/x509.js';
import { certificateDer, certificateStructure } from '../certify-authority.js';
import { handler, type RequestContext } from '../context.js';
import { errors } from '../errors.js';
import { link, LinkType, linkedUid } from '../links.js';
import {
  loadObject,
  nowSeconds,
  ObjectType,
  objectTypeOf,
  resolveUid,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import {
  issueCertificate,
  linkedPublicKey,
  readCertifyRequest,
  readCsr,
  type CertificateContent,
  type CertifyRequest,
} from './certify.js';
import { checkReplaceable, readOffset, replacedObject, replacementDates, withRequested } from './re-key.js';
import { storeStructure } from './register.js';

const T = tags('Name', 'ActivationDate', 'DeactivationDate');

/** The dates a renewed certificate takes over, or moves by the Offset (KMIP 1.4 §4.8 Table 186). */
const certificateDates = [T.ActivationDate, T.DeactivationDate];

type ReCertifyRequest = CertifyRequest & { readonly offset: number | undefined };

/**
 * What the renewal certifies. With a request: its subject and extensions, for the same key as the existing
 * certificate ("renew an existing certificate for the same key pair"). Without one: the existing certificate's
 * subject, key and extensions, which only a certificate this appliance issued may be renewed on (anything else
 * would be a signature on a key nobody proved to hold).
 */
async function renewedContent(
  existing: ManagedObject,
  request: CertifyRequest,
  ctx: RequestContext,
): Promise<CertificateContent> {
  const current = new x509.X509Certificate(await certificateDer(existing, ctx));
  if (request.request !== undefined) {
    const requested = await readCsr(request);
    const same = Buffer.from(requested.publicKey.rawData).equals(Buffer.from(current.publicKey.rawData));
    if (!same) {
      throw errors.invalidField(
        `the Certificate Request is for another key than certificate ${existing.uid}: Re-certify keeps the key pair`,
      );
    }
    return requested;
  }
  const ca = await ctx.certifyAuthority.issuer(ctx);
  const ours = new X509Certificate(Buffer.from(current.rawData)).verify(
    new X509Certificate(Buffer.from(ca.certificate.rawData)).publicKey,
  );
  if (!ours) {
    throw errors.invalidField(
      `certificate ${existing.uid} was not issued by this appliance's Certify CA: renew it with a Certificate Request`,
    );
  }
  return { subject: current.subjectName, publicKey: current.publicKey, extensions: current.extensions };
}

/**
 * Re-certify (KMIP 1.4 §4.8, 2.1 §6.1.40): a new certificate for the key pair of an existing one, signed by the
 * issuing CA inside the token. The new certificate takes over the existing one's Names, its Activation and
 * Deactivation Dates (copied, or moved by the Offset), and its public key, whose Certificate Link moves to it; the
 * two certificates link to each other (Replacement / Replaced Object). One atomic commit; the ID placeholder becomes
 * the new certificate.
 */
export const reCertify = handler({
  operation: 'ReCertify',
  since: '1.0',
  access: 'manage',
  decodeRequest(payload, ctx): ReCertifyRequest {
    const request = readCertifyRequest(payload, ctx);
    return { ...request, offset: readOffset(payload, request.attributes, certificateDates) };
  },
  async execute(request: ReCertifyRequest, ctx) {
    const existing = await loadObject(resolveUid(request.uid, ctx), ctx);
    if (objectTypeOf(existing) !== ObjectType.Certificate) {
      throw errors.invalidField(
        `object ${existing.uid} is not a Certificate: Re-certify renews certificates`,
      );
    }
    checkReplaceable(existing);
    const content = await renewedContent(existing, request, ctx);
    const keyUid = linkedUid(existing, LinkType.PublicKeyLink);
    const key = keyUid === undefined ? undefined : await loadObject(keyUid, ctx);
    const issued = await issueCertificate(content, ctx);
    const names = existing.attributes.filter((a) => a.kind === 'standard' && a.value.tag === T.Name);
    const dates = replacementDates(existing.attributes, request.offset, nowSeconds(ctx), certificateDates);
    const requested: Attribute[] = withRequested(
      [...names, ...dates.map((value): Attribute => ({ kind: 'standard', value }))],
      request.attributes,
    );
    return storeStructure(
      ObjectType.Certificate,
      [
        ...requested,
        link(LinkType.ReplacedObjectLink, existing.uid),
        ...(key ? [link(LinkType.PublicKeyLink, key.uid)] : []),
        link(LinkType.CertificateLink, issued.caUid),
      ],
      certificateStructure(issued.der),
      ctx,
      [],
      (uid) => [replacedObject(existing, uid, ctx), ...(key ? [linkedPublicKey(key, uid, ctx)] : [])],
    );
  },
  encodeResponse(uid: string): TtlvItem[] {
    return uidResponse(uid);
  },
});
