/**
 * The client certificates the drills present, made fresh for each run and kept in memory only: each is wrong in
 * exactly one way (RFC 5280 §4.1.2.5 validity, §4.2.1.12 extendedKeyUsage, the issuer, the subject CN).
 */
import { randomBytes } from 'node:crypto';
import {
  addDays,
  createCertificateAuthority,
  issueCertificate,
  type CertificateAuthority,
  type CertificateProfile,
} from '../pki/issue.js';
import type { CertificateKind } from './drills.js';

/** A certificate and its key, in PEM, as node:tls takes them. */
export interface ClientIdentity {
  readonly certPem: string;
  readonly keyPem: string;
}

export interface CertificateNames {
  /** CN of every certificate but 'other-cn'. */
  readonly cn: string;
  /** CN of the 'other-cn' certificate; must differ from the Credential username. */
  readonly otherCn: string;
}

/** The client certificates for `kinds` ('none' needs none); keys are RSA-2048, which every TLS version can use. */
export async function makeClientCertificates(
  ca: CertificateAuthority,
  kinds: Iterable<CertificateKind>,
  names: CertificateNames,
  now: Date = new Date(),
): Promise<ReadonlyMap<CertificateKind, ClientIdentity>> {
  const wanted = [...new Set(kinds)].filter((kind) => kind !== 'none');
  const made = await Promise.all(
    wanted.map(async (kind): Promise<[CertificateKind, ClientIdentity]> => {
      const issuer = kind === 'untrusted-ca' ? await untrustedCa(now) : ca;
      const issued = await issueCertificate(issuer, profileFor(kind, names, now));
      return [kind, { certPem: issued.certPem, keyPem: issued.keyPem }];
    }),
  );
  return new Map(made);
}

/**
 * A certificate valid in every way but the one its kind names. The valid window starts an hour back, so a server
 * whose clock lags ours a little still sees it as valid; the expired and not-yet-valid windows are days away from
 * now, far beyond any plausible clock skew.
 */
function profileFor(kind: CertificateKind, names: CertificateNames, now: Date): CertificateProfile {
  const valid = { notBefore: new Date(now.getTime() - 60 * 60 * 1000), notAfter: addDays(now, 1) };
  const base = {
    subject: { commonName: names.cn, organizationName: 'kmipd drill' },
    sans: [],
    eku: ['clientAuth'],
    keyAlgorithm: 'rsa-2048',
    ...valid,
  } as const;
  switch (kind) {
    case 'valid':
    case 'none':
    case 'untrusted-ca':
      return base;
    case 'expired':
      return { ...base, notBefore: addDays(now, -30), notAfter: addDays(now, -2) };
    case 'not-yet-valid':
      return { ...base, notBefore: addDays(now, 2), notAfter: addDays(now, 30) };
    case 'no-client-auth':
      // An empty EKU would mean "any purpose" (RFC 5280 §4.2.1.12), which OpenSSL accepts for a client.
      return { ...base, eku: ['serverAuth'] };
    case 'other-cn':
      return { ...base, subject: { ...base.subject, commonName: names.otherCn } };
  }
}

/** A throwaway CA that no server trusts: made now, for this run, and forgotten after it. */
async function untrustedCa(now: Date): Promise<CertificateAuthority> {
  return createCertificateAuthority({
    subject: {
      commonName: `kmipd drill untrusted CA ${randomBytes(4).toString('hex')}`,
      organizationName: 'kmipd drill',
    },
    notBefore: addDays(now, -1),
    notAfter: addDays(now, 2),
    // RSA-2048 rather than the lab CA's 3072: it lives for one run, and key generation is the slow part.
    keyAlgorithm: 'rsa-2048',
  });
}
