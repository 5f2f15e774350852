/**
 * The standard client-certificate drills, as data: which certificate the client presents, which Credential it
 * sends, which TLS versions it offers, and what a strict server does with that. run.ts carries them out against
 * any KMIP server; report.ts prints them.
 */

/** The client certificate a drill presents. All but 'untrusted-ca' are signed by the CA the server trusts. */
export type CertificateKind =
  | 'valid'
  | 'none'
  | 'untrusted-ca'
  | 'expired'
  | 'not-yet-valid'
  | 'no-client-auth'
  /** Valid, but its CN differs from the Credential's username. */
  | 'other-cn';

/**
 * The Credential a drill sends (KMIP 1.4 §2.1.2, Username and Password): 'valid' is the --username/--password
 * pair, or no Credential at all when no username was given; 'wrong-password' is the username with a password
 * that is certainly not the right one.
 */
export type CredentialKind = 'valid' | 'wrong-password';

/** node:tls version names. */
export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/**
 * What a strict server does:
 * - 'accepted': answers the Query with Success;
 * - 'refused': does not serve the client, either in the TLS handshake (an alert, or closing the connection) or
 *   with KMIP Authentication Not Successful followed by closing the connection (DESIGN.md "Identity, access,
 *   audit": a mismatching username is refused and the connection closed);
 * - 'refused-in-handshake': never completes a handshake in an obsolete protocol version, so nothing is sent
 *   over it (RFC 8996 deprecates TLS 1.0 and 1.1);
 * - 'refused-authentication': the certificate is fine, so the refusal must come in KMIP as Result Reason
 *   Authentication Not Successful (KMIP 1.4 §11 Table 247), where the client can read it.
 */
export type Expectation = 'accepted' | 'refused' | 'refused-in-handshake' | 'refused-authentication';

export interface Drill {
  /** Short and stable: what --only takes and the JSON output carries. */
  readonly name: string;
  /** What the table shows in its "drill" column. */
  readonly title: string;
  readonly certificate: CertificateKind;
  readonly credential: CredentialKind;
  /** Drills about the Credential mean nothing without a username to send: skipped when none was given. */
  readonly needsUsername: boolean;
  /** The only TLS version the client offers; undefined: node's defaults (TLS 1.2 and 1.3, the best wins). */
  readonly tlsVersion?: TlsVersion;
  readonly expect: Expectation;
  /** The "strict server should" column. */
  readonly strict: string;
}

const REFUSED = 'refuse: TLS alert or close, or KMIP Authentication Not Successful + close';

export const drills: readonly Drill[] = [
  {
    name: 'valid',
    title: 'valid certificate',
    certificate: 'valid',
    credential: 'valid',
    needsUsername: false,
    expect: 'accepted',
    strict: 'accept',
  },
  {
    name: 'no-certificate',
    title: 'no certificate',
    certificate: 'none',
    credential: 'valid',
    needsUsername: false,
    expect: 'refused',
    strict: REFUSED,
  },
  {
    name: 'untrusted-ca',
    title: 'certificate from an untrusted CA',
    certificate: 'untrusted-ca',
    credential: 'valid',
    needsUsername: false,
    expect: 'refused',
    strict: REFUSED,
  },
  {
    name: 'expired',
    title: 'expired certificate',
    certificate: 'expired',
    credential: 'valid',
    needsUsername: false,
    expect: 'refused',
    strict: REFUSED,
  },
  {
    name: 'not-yet-valid',
    title: 'certificate not yet valid',
    certificate: 'not-yet-valid',
    credential: 'valid',
    needsUsername: false,
    expect: 'refused',
    strict: REFUSED,
  },
  {
    name: 'no-client-auth',
    title: 'certificate without clientAuth usage',
    certificate: 'no-client-auth',
    credential: 'valid',
    needsUsername: false,
    expect: 'refused',
    strict: REFUSED,
  },
  {
    name: 'cn-mismatch',
    title: 'CN different from the Credential username',
    certificate: 'other-cn',
    credential: 'valid',
    needsUsername: true,
    expect: 'refused',
    strict: `${REFUSED} (in session-and-username mode)`,
  },
  {
    name: 'wrong-password',
    title: 'wrong password',
    certificate: 'valid',
    credential: 'wrong-password',
    needsUsername: true,
    expect: 'refused-authentication',
    strict: 'refuse with KMIP Authentication Not Successful',
  },
  {
    name: 'tls1.0',
    title: 'TLS 1.0',
    certificate: 'valid',
    credential: 'valid',
    needsUsername: false,
    tlsVersion: 'TLSv1',
    expect: 'refused-in-handshake',
    strict: 'refuse in the handshake',
  },
  {
    name: 'tls1.1',
    title: 'TLS 1.1',
    certificate: 'valid',
    credential: 'valid',
    needsUsername: false,
    tlsVersion: 'TLSv1.1',
    expect: 'refused-in-handshake',
    strict: 'refuse in the handshake',
  },
  {
    name: 'tls1.2',
    title: 'TLS 1.2',
    certificate: 'valid',
    credential: 'valid',
    needsUsername: false,
    tlsVersion: 'TLSv1.2',
    expect: 'accepted',
    strict: 'accept',
  },
  {
    name: 'tls1.3',
    title: 'TLS 1.3',
    certificate: 'valid',
    credential: 'valid',
    needsUsername: false,
    tlsVersion: 'TLSv1.3',
    expect: 'accepted',
    strict: 'accept',
  },
];

/** The drills named in `only` (every drill when undefined), in the standard order; throws for an unknown name. */
export function selectDrills(only?: readonly string[]): readonly Drill[] {
  if (only === undefined) return drills;
  const known = new Set(drills.map((drill) => drill.name));
  const unknown = only.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new RangeError(
      `unknown drill ${unknown.join(', ')}; the drills are ${drills.map((drill) => drill.name).join(', ')}`,
    );
  }
  const wanted = new Set(only);
  return drills.filter((drill) => wanted.has(drill.name));
}
