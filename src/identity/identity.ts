import { createHash, type X509Certificate } from 'node:crypto';
import type { Credential } from '../kmip/message.js';
import { enumValue } from '../kmip/vocabulary.js';
import { principal, type Principal, type Role } from '../kmip-ops/access.js';
import { isReservedPrincipal } from './reserved.js';

/**
 * Who a client is (DESIGN.md "Identity, access, audit"; ESKM-style modes). The session identity comes from a
 * chosen field of the verified client certificate, optionally mapped through a table; a KMIP Credential (Username
 * and Password, KMIP 1.4 §2.1.2) is checked against the users file. Every refusal names its cause.
 */
export type IdentityField = 'cn' | 'san-email' | 'san-dns' | 'uid' | 'ou';
export const identityFields: readonly IdentityField[] = ['cn', 'san-email', 'san-dns', 'uid', 'ou'];
export type ClientCertMode = 'session' | 'session-and-username';
export type PasswordAuth = 'none' | 'optional' | 'required';

export type RefusalCause =
  | 'no-client-certificate'
  | 'unknown-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'missing-client-auth'
  | 'bad-certificate'
  | 'no-identity'
  | 'name-mismatch'
  | 'credential-required'
  | 'unknown-user'
  | 'bad-password';

/** The users file as identity needs it (src/identity/users.ts implements it). */
export interface UsersDirectory {
  rolesOf(name: string): readonly Role[];
  grantsTo(name: string): readonly string[];
  verifyPassword(
    name: string,
    password: string,
  ): Promise<'ok' | 'unknown-user' | 'bad-password' | 'no-password'>;
}

export interface IdentityOptions {
  readonly field: IdentityField;
  /** Certificate names mapped to principals (e.g. a host certificate to a service account). */
  readonly principalMap: ReadonlyMap<string, string>;
  readonly requireClientAuthEku: boolean;
  readonly clientCertMode: ClientCertMode;
  readonly passwordAuth: PasswordAuth;
  readonly users: UsersDirectory | undefined;
  /** Roles of a principal the users file does not list. */
  readonly defaultRoles: readonly Role[];
}

export const defaultIdentityOptions: IdentityOptions = {
  field: 'cn',
  principalMap: new Map(),
  requireClientAuthEku: false,
  clientCertMode: 'session',
  passwordAuth: 'none',
  users: undefined,
  defaultRoles: ['creator'],
};

/** What the log and audit trail say about a client certificate: never its key, always enough to find it. */
export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly serial: string;
  readonly validFrom: string;
  readonly validTo: string;
  readonly fingerprint: string;
}

export class IdentityRefusal extends Error {
  override readonly name = 'IdentityRefusal';
  constructor(
    readonly refusal: RefusalCause,
    /** Safe to tell the client: it names what is wrong with what the client sent. */
    readonly detail: string,
    readonly certificate?: CertificateSummary,
  ) {
    super(`${refusal}: ${detail}`);
  }
}

export function summarize(cert: X509Certificate): CertificateSummary {
  return {
    subject: cert.subject.replace(/\n/g, ', '),
    issuer: cert.issuer.replace(/\n/g, ', '),
    serial: cert.serialNumber,
    validFrom: new Date(cert.validFrom).toISOString(),
    validTo: new Date(cert.validTo).toISOString(),
    fingerprint: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

/** OpenSSL verification codes (as node:tls reports them) and the cause each one means for a client certificate. */
const verifyCodes: Readonly<Record<string, RefusalCause>> = {
  UNABLE_TO_GET_ISSUER_CERT: 'unknown-ca',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unknown-ca',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unknown-ca',
  SELF_SIGNED_CERT_IN_CHAIN: 'unknown-ca',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'unknown-ca',
  CERT_SIGNATURE_FAILURE: 'unknown-ca',
  CERT_HAS_EXPIRED: 'expired',
  CERT_NOT_YET_VALID: 'not-yet-valid',
  INVALID_PURPOSE: 'missing-client-auth',
};

const causeWords: Readonly<Record<RefusalCause, string>> = {
  'no-client-certificate': 'no client certificate was presented',
  'unknown-ca': 'the client certificate is not issued by a CA this server trusts',
  expired: 'the client certificate has expired',
  'not-yet-valid': 'the client certificate is not valid yet',
  'missing-client-auth':
    'the client certificate does not allow TLS client authentication (extended key usage clientAuth)',
  'bad-certificate': 'the client certificate was refused',
  'no-identity': 'the client certificate carries no usable identity',
  'name-mismatch': 'the certificate name does not match the Credential username',
  'credential-required': 'a Credential with username and password is required',
  'unknown-user': 'unknown user',
  'bad-password': 'wrong password',
};

/** The session identity of a TLS connection, or why it is refused. */
export function sessionIdentity(
  tls: {
    readonly authorized: boolean;
    readonly authorizationError: string | undefined;
    readonly certificate: X509Certificate | undefined;
  },
  options: IdentityOptions,
): { readonly name: string; readonly certificate: CertificateSummary } {
  const cert = tls.certificate;
  if (!cert) throw new IdentityRefusal('no-client-certificate', causeWords['no-client-certificate']);
  const summary = summarize(cert);
  if (!tls.authorized) {
    const code = tls.authorizationError ?? 'unknown';
    const cause = verifyCodes[code] ?? 'bad-certificate';
    const when =
      cause === 'expired'
        ? ` on ${summary.validTo}`
        : cause === 'not-yet-valid'
          ? ` until ${summary.validFrom}`
          : '';
    throw new IdentityRefusal(
      cause,
      `${causeWords[cause]}${when} (${code}; subject ${summary.subject}, issuer ${summary.issuer})`,
      summary,
    );
  }
  // node:crypto types keyUsage (the extended key usages) as always present; it is undefined without the extension.
  const extendedKeyUsage: unknown = cert.keyUsage;
  const clientAuth = Array.isArray(extendedKeyUsage) && extendedKeyUsage.includes('1.3.6.1.5.5.7.3.2');
  if (options.requireClientAuthEku && !clientAuth) {
    throw new IdentityRefusal(
      'missing-client-auth',
      `${causeWords['missing-client-auth']}: this server requires the clientAuth extended key usage (subject ${summary.subject})`,
      summary,
    );
  }
  const raw = certificateName(cert, options.field);
  if (raw === undefined || raw === '') {
    throw new IdentityRefusal(
      'no-identity',
      `${causeWords['no-identity']}: no ${options.field} in ${summary.subject}`,
      summary,
    );
  }
  const name = options.principalMap.get(raw) ?? raw;
  // The server's own owners (the Certify CA, public objects) are named "kmipd:..."; no client may be one of them.
  if (isReservedPrincipal(name)) {
    throw new IdentityRefusal(
      'no-identity',
      `${causeWords['no-identity']}: '${name}' is reserved for the server's own objects (subject ${summary.subject})`,
      summary,
    );
  }
  return { name, certificate: summary };
}

/** The chosen field of a certificate: subject CN, UID or OU, or the first SAN email or DNS name. */
export function certificateName(cert: X509Certificate, field: IdentityField): string | undefined {
  const subject = (key: string): string | undefined =>
    cert.subject
      .split('\n')
      .find((line) => line.startsWith(`${key}=`))
      ?.slice(key.length + 1);
  const san = (kind: string): string | undefined =>
    (cert.subjectAltName ?? '')
      .split(', ')
      .find((entry) => entry.startsWith(`${kind}:`))
      ?.slice(kind.length + 1);
  switch (field) {
    case 'cn':
      return subject('CN');
    case 'uid':
      return subject('UID') ?? subject('0.9.2342.19200300.100.1.1');
    case 'ou':
      return subject('OU');
    case 'san-email':
      return san('email');
    case 'san-dns':
      return san('DNS');
  }
}

const usernameAndPassword = enumValue('CredentialType', 'UsernameAndPassword');

/**
 * The principal of one request: the session identity, checked against the request's Credential as the modes ask.
 * "session": the certificate authenticates the session; a valid Credential names the user. "session-and-username":
 * the Credential's username must equal the certificate's name, or the connection is refused.
 */
export async function requestPrincipal(
  session: { readonly name: string },
  credentials: readonly Credential[],
  options: IdentityOptions,
  /**
   * The connection's last verified Credential (a digest, never the password): a client that sends the same
   * Credential with every request pays for one scrypt verification per connection, not one per request.
   */
  memo?: { verified: string | undefined },
): Promise<Principal> {
  const credential = credentials.find((c) => c.type === usernameAndPassword);
  const username = credential?.value?.text('Username');
  const password = credential?.value?.text('Password');
  if (options.clientCertMode === 'session-and-username') {
    if (username === undefined) {
      throw new IdentityRefusal(
        'credential-required',
        `${causeWords['credential-required']} in session-and-username mode`,
      );
    }
    if (username !== session.name) {
      throw new IdentityRefusal(
        'name-mismatch',
        `the certificate name '${session.name}' does not match the Credential username '${username}'`,
      );
    }
  }
  let name = session.name;
  if (options.passwordAuth !== 'none' && (username !== undefined || options.passwordAuth === 'required')) {
    if (username === undefined || password === undefined) {
      throw new IdentityRefusal('credential-required', causeWords['credential-required']);
    }
    const digest = createHash('sha256').update(username).update('\0').update(password).digest('hex');
    if (memo?.verified !== digest) {
      const verdict = options.users ? await options.users.verifyPassword(username, password) : 'unknown-user';
      if (verdict === 'unknown-user') throw new IdentityRefusal('unknown-user', `unknown user '${username}'`);
      if (verdict !== 'ok')
        throw new IdentityRefusal('bad-password', `wrong password for user '${username}'`);
      if (memo) memo.verified = digest;
    }
    name = username;
  }
  if (isReservedPrincipal(name)) {
    throw new IdentityRefusal('unknown-user', `'${name}' is reserved for the server's own objects`);
  }
  const listed = options.users?.rolesOf(name) ?? [];
  return principal(
    name,
    listed.length > 0 ? listed : options.defaultRoles,
    options.users?.grantsTo(name) ?? [],
  );
}
