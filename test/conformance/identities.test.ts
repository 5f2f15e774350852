/** One client identity per profile and version for the conformance runner (src/conformance/identities.ts). */
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { FileIdentities } from '../../src/conformance/identities.js';
import { describeVector } from '../../src/conformance/vectors.js';
import { ensureLabPki, labPkiPaths, loadLabCa } from '../../src/pki/lab-pki.js';

test('files of one profile and version share an identity; other groups get their own, signed by the lab CA', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'kmipd-identities-'));
  try {
    await ensureLabPki(dir);
    const caPem = await readFile(labPkiPaths(dir).ca);
    const identities = new FileIdentities(await loadLabCa(dir), caPem);
    const tl2 = await identities.for(describeVector('/v/profiles-v1.4/mandatory/TL-M-2-14.xml'));
    const tl3 = await identities.for(describeVector('/v/profiles-v1.4/mandatory/TL-M-3-14.xml'));
    const tl2of21 = await identities.for(describeVector('/v/profiles-v2.1/mandatory/TL-M-2-21.xml'));
    const sased = await identities.for(describeVector('/v/profiles-v1.4/mandatory/SASED-M-2-14.xml'));
    t.is(tl3.cert.toString(), tl2.cert.toString(), 'one profile and version, one identity');
    const subjects = [tl2, tl2of21, sased].map((c) => new X509Certificate(c.cert).subject);
    t.is(new Set(subjects).size, 3, 'another version or profile, another principal');
    const ca = new X509Certificate(caPem);
    for (const credentials of [tl2, tl2of21, sased]) {
      const certificate = new X509Certificate(credentials.cert);
      t.true(certificate.verify(ca.publicKey), 'signed by the lab CA');
      t.true(certificate.checkIssued(ca));
      t.regex(certificate.subject, /CN=conformance-\d+/);
      t.deepEqual(certificate.keyUsage, ['1.3.6.1.5.5.7.3.2'], 'clientAuth only');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
