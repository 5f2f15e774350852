/**
 * A client identity of its own for each profile and version (all the files of "1.4 TL" share one), when the runner
 * holds the lab CA (the embedded server, the floor test): each group then sees only the objects it made, as if it
 * ran against a clean server. The vectors assume that (kmip-vectors README: "Some TL (tape library) vectors leave
 * objects behind and need a clean server"; TC-OFFSET's Locate counts every key it can see), while the files of one
 * profile may build on each other (TL-M-3 and SASED-M-3 find what TL-M-2 and SASED-M-2 left). A server keeps
 * principals apart anyway (objects belong to their creator, DESIGN.md "Identity, access, audit"), so this isolates
 * the groups without a server per group.
 *
 * Certificates are issued in memory with P-256 keys, CN "conformance-<n>", clientAuth only.
 */
import { issueCertificate, type CertificateAuthority } from '../pki/issue.js';
import type { ClientCredentials } from './client.js';
import type { VectorFile } from './vectors.js';

/** Leaf validity: long enough for any run, short enough that a leaked key is worth little. */
const VALIDITY_MS = 24 * 60 * 60 * 1000;

export class FileIdentities {
  private next = 0;
  private readonly byGroup = new Map<string, Promise<ClientCredentials>>();

  constructor(
    private readonly ca: CertificateAuthority,
    private readonly caPem: Buffer,
  ) {}

  /** The identity of a vector file's profile and version. */
  for(vector: VectorFile): Promise<ClientCredentials> {
    const group = `${vector.version} ${vector.profile}`;
    let credentials = this.byGroup.get(group);
    if (credentials === undefined) {
      credentials = this.issue();
      this.byGroup.set(group, credentials);
    }
    return credentials;
  }

  private async issue(): Promise<ClientCredentials> {
    this.next += 1;
    const now = Date.now();
    const issued = await issueCertificate(this.ca, {
      subject: { commonName: `conformance-${String(this.next)}`, organizationName: 'kmipd conformance' },
      sans: [],
      eku: ['clientAuth'],
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + VALIDITY_MS),
      keyAlgorithm: 'ec-p256',
    });
    return { ca: this.caPem, cert: Buffer.from(issued.certPem), key: Buffer.from(issued.keyPem) };
  }
}
