/**
 * Identity over real mutual TLS: each certificate refusal named in the log, the audit trail and the client's
 * Authentication Not Successful; identity fields; session-and-username and password modes; roles.
 * One appliance data directory, restarted with each setting (one SoftHSM2 data directory per process).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import type { IdentitySettings } from '../../src/appliance/config.js';
import { addUser } from '../../src/identity/users.js';
import { addDays, issueCertificate, createCertificateAuthority } from '../../src/pki/issue.js';
import { loadLabCa } from '../../src/pki/lab-pki.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { requestXml, TestKmipClient, valueOf } from '../support/kmip-client.js';

/** Temporary directories of this file's certificates and users files, removed when the file's tests end. */
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
test.after.always(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

let dataDir: string | undefined;
let server: TestAppliance | undefined;

async function restart(identity: Partial<IdentitySettings> = {}): Promise<TestAppliance> {
  await server?.stop();
  server = await startTestAppliance({ ...(dataDir === undefined ? {} : { dataDir }), identity });
  dataDir = server.dataDir;
  return server;
}

test.after.always(async () => {
  await server?.dispose();
});

const query = requestXml(
  '1.2',
  `<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload>
     <QueryFunction type="Enumeration" value="QueryOperations"/></RequestPayload></BatchItem>`,
);

function withCredential(username: string, password?: string): string {
  const credential = `<Authentication><Credential>
    <CredentialType type="Enumeration" value="UsernameAndPassword"/>
    <CredentialValue><Username type="TextString" value="${username}"/>${password === undefined ? '' : `<Password type="TextString" value="${password}"/>`}</CredentialValue>
  </Credential></Authentication>`;
  return requestXml(
    '1.2',
    `<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload>
       <QueryFunction type="Enumeration" value="QueryOperations"/></RequestPayload></BatchItem>`,
    credential,
  );
}

/** Writes a certificate and key for a test client under the data directory; returns the client files. */
async function clientFiles(
  name: string,
  profile: {
    cn: string;
    eku?: ('clientAuth' | 'serverAuth')[];
    days?: [number, number];
    sans?: { type: 'dns' | 'email'; value: string }[];
    ou?: string;
    untrusted?: boolean;
  },
): Promise<{ cert: string; key: string; ca: string }> {
  const s = server;
  if (!s) throw new Error('no server');
  const now = new Date();
  const ca = profile.untrusted
    ? await createCertificateAuthority({
        subject: { commonName: 'stranger CA' },
        notBefore: addDays(now, -1),
        notAfter: addDays(now, 30),
      })
    : await loadLabCa(join(s.dataDir, 'certs'));
  const [from, to] = profile.days ?? [-1, 30];
  const issued = await issueCertificate(ca, {
    subject: {
      commonName: profile.cn,
      ...(profile.ou === undefined ? {} : { organizationalUnitName: profile.ou }),
    },
    sans: profile.sans ?? [],
    eku: profile.eku ?? ['clientAuth'],
    notBefore: addDays(now, from),
    notAfter: addDays(now, to),
  });
  const dir = tempDir(`kmipd-id-${name}-`);
  writeFileSync(join(dir, 'c.pem'), issued.certPem);
  writeFileSync(join(dir, 'c.key'), issued.keyPem);
  return { cert: join(dir, 'c.pem'), key: join(dir, 'c.key'), ca: s.ca };
}

async function ask(
  files: { cert: string; key: string; ca: string },
  xml: string,
): Promise<{ xml: string; closed: boolean }> {
  const s = server;
  if (!s) throw new Error('no server');
  const client = await TestKmipClient.connect(s.host, s.port, files);
  const closed = new Promise<boolean>((resolve) => {
    client.socket.once('close', () => {
      resolve(true);
    });
    setTimeout(() => {
      resolve(false);
    }, 3000);
  });
  const response = await client.requestXml(xml);
  return { xml: response, closed: await closed };
}

async function logHas(pattern: RegExp, file = 'kmipd.log'): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      if (pattern.test(readFileSync(join(dataDir ?? '', 'logs', file), 'utf8'))) return true;
    } catch {
      // not yet written
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test.serial('a valid certificate is accepted; its CN is the principal', async (t) => {
  const s = await restart();
  const { xml } = await ask(s, query);
  t.regex(xml, /value="Success"/);
});

for (const [label, profile, cause, clientSays] of [
  [
    'an untrusted CA',
    { cn: 'stranger', untrusted: true },
    'unknown-ca',
    /not issued by a CA this server trusts/,
  ],
  [
    'an expired certificate',
    { cn: 'old', days: [-30, -1] as [number, number] },
    'expired',
    /has expired on \d{4}-/,
  ],
  [
    'a certificate not yet valid',
    { cn: 'early', days: [2, 30] as [number, number] },
    'not-yet-valid',
    /not valid yet until \d{4}-/,
  ],
  [
    'a certificate without clientAuth',
    { cn: 'server-only', eku: ['serverAuth'] as ('serverAuth' | 'clientAuth')[] },
    'missing-client-auth',
    /clientAuth/,
  ],
] as const) {
  test.serial(`${label} is refused by name: log, audit trail, and the client's Result Message`, async (t) => {
    if (!server) await restart();
    const files = await clientFiles(cause, profile);
    const { xml, closed } = await ask(files, query);
    t.regex(xml, /AuthenticationNotSuccessful/);
    t.regex(xml, clientSays);
    t.true(closed, 'the connection is closed after the answer');
    t.true(await logHas(new RegExp(`"cause":"${cause}"`)), 'operational log names the cause');
    t.true(await logHas(new RegExp(`"serial":"[0-9A-F]+"`)), 'the log identifies the certificate');
    t.true(
      await logHas(new RegExp(`AuthenticationNotSuccessful/${cause}`), 'audit.log'),
      'audit trail names the cause',
    );
  });
}

test.serial('no client certificate is refused by name', async (t) => {
  const s = server ?? (await restart());
  const socket = tls.connect({ host: s.host, port: s.port, ca: readFileSync(s.ca), servername: 'localhost' });
  await new Promise((resolve) => socket.once('secureConnect', resolve));
  const { encodeTtlv } = await import('../../src/ttlv/encode.js');
  const { readXmlMessages, messageToXml } = await import('../../src/kmip/text-messages.js');
  const { decodeTtlv } = await import('../../src/ttlv/decode.js');
  const item = readXmlMessages(query).messages[0]?.item;
  if (!item) return t.fail('query does not parse');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(encodeTtlv(item));
  await new Promise((resolve) => socket.once('close', resolve));
  const xml = messageToXml(decodeTtlv(Buffer.concat(chunks)));
  t.regex(xml, /AuthenticationNotSuccessful/);
  t.regex(xml, /no client certificate was presented/);
  t.true(await logHas(/"cause":"no-client-certificate"/));
});

test.serial(
  '--require-client-auth-eku refuses a certificate with no extended key usage at all',
  async (t) => {
    await restart({ requireClientAuthEku: true });
    const files = await clientFiles('no-eku', { cn: 'any-purpose', eku: [] });
    const { xml } = await ask(files, query);
    t.regex(xml, /requires the clientAuth extended key usage/);
    await restart();
    const relaxed = await ask(files, query);
    t.regex(relaxed.xml, /Success/, 'without the option, "any purpose" is accepted (RFC 5280 §4.2.1.12)');
  },
);

test.serial('identity fields: SAN email and DNS, OU, and a principal map', async (t) => {
  await restart({ field: 'san-email' });
  const emailFiles = await clientFiles('email', {
    cn: 'cn-name',
    sans: [{ type: 'email', value: 'ops@example.test' }],
  });
  const created = await ask(
    emailFiles,
    requestXml(
      '1.4',
      `<BatchItem><Operation type="Enumeration" value="Create"/><RequestPayload>
        <ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>
        <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute>
        <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="128"/></Attribute>
        </TemplateAttribute></RequestPayload></BatchItem>`,
    ),
  );
  t.truthy(valueOf(created.xml, 'UniqueIdentifier'));
  t.true(await logHas(/"id":"ops@example\.test"/, 'audit.log'), 'the principal is the SAN email');
  const none = await clientFiles('no-email', { cn: 'cn-only' });
  t.regex((await ask(none, query)).xml, /no usable identity: no san-email/);

  await restart({ field: 'ou', principalMap: new Map([['storage-team', 'svc-storage']]) });
  const ouFiles = await clientFiles('ou', { cn: 'host-1', ou: 'storage-team' });
  t.regex((await ask(ouFiles, query)).xml, /Success/);
  t.true(await logHas(/"id":"svc-storage"/, 'audit.log'), 'OU mapped through the principal map');

  await restart({ field: 'san-dns' });
  const dnsFiles = await clientFiles('dns', {
    cn: 'x',
    sans: [{ type: 'dns', value: 'node7.example.test' }],
  });
  t.regex((await ask(dnsFiles, query)).xml, /Success/);
  t.true(await logHas(/"id":"node7\.example\.test"/, 'audit.log'));
});

test.serial(
  "a principal named like the server's own owners (kmipd:...) is refused, mapped or not",
  async (t) => {
    await restart({ principalMap: new Map([['mapped-in', 'kmipd:certify-ca']]) });
    const direct = await clientFiles('reserved', { cn: 'kmipd:public' });
    t.regex((await ask(direct, query)).xml, /'kmipd:public' is reserved for the server's own objects/);
    const mapped = await clientFiles('reserved-mapped', { cn: 'mapped-in' });
    t.regex((await ask(mapped, query)).xml, /'kmipd:certify-ca' is reserved/);
    const near = await clientFiles('near-reserved', { cn: 'kmipd-public' });
    t.regex((await ask(near, query)).xml, /Success/, 'only the kmipd: prefix is reserved');
  },
);

test.serial('session-and-username: the Credential username must equal the certificate name', async (t) => {
  const s = await restart({ clientCertMode: 'session-and-username' });
  const match = await ask(s, withCredential('admin'));
  t.regex(match.xml, /Success/);
  const mismatch = await ask(s, withCredential('barbican'));
  t.regex(mismatch.xml, /AuthenticationNotSuccessful/);
  t.regex(mismatch.xml, /certificate name 'admin' does not match the Credential username 'barbican'/);
  t.true(mismatch.closed, 'the connection is closed');
  t.true(await logHas(/"cause":"name-mismatch"/));
  const missing = await ask(s, query);
  t.regex(missing.xml, /Credential with username and password is required in session-and-username mode/);
});

test.serial('password authentication: required, unknown user, wrong password, right password', async (t) => {
  const usersFile = join(tempDir('kmipd-users-'), 'users.json');
  await addUser(usersFile, { name: 'admin', password: 'right-horse', roles: ['creator'] });
  const s = await restart({ passwordAuth: 'required', usersFile });
  t.regex((await ask(s, query)).xml, /a Credential with username and password is required/);
  t.regex((await ask(s, withCredential('nobody', 'x'))).xml, /unknown user 'nobody'/);
  t.regex((await ask(s, withCredential('admin', 'wrong'))).xml, /wrong password for user 'admin'/);
  t.true(await logHas(/"cause":"bad-password"/));
  t.regex((await ask(s, withCredential('admin', 'right-horse'))).xml, /Success/);
  const log =
    readFileSync(join(s.dataDir, 'logs', 'kmipd.log'), 'utf8') +
    readFileSync(join(s.dataDir, 'logs', 'audit.log'), 'utf8');
  t.false(log.includes('right-horse'), 'no password in the logs');
  t.false(log.includes('"wrong"'), 'no password in the logs');
});

test.serial(
  'roles: observer reads granted objects, auditor sees metadata only, others see nothing',
  async (t) => {
    const usersFile = join(tempDir('kmipd-roles-'), 'users.json');
    await addUser(usersFile, { name: 'admin', roles: ['creator'] });
    await addUser(usersFile, { name: 'watcher', roles: ['observer'] });
    await addUser(usersFile, { name: 'inspector', roles: ['auditor'] });
    await addUser(usersFile, { name: 'root', roles: ['admin'] });
    // Grants: watcher may read admin's objects.
    const file = JSON.parse(readFileSync(usersFile, 'utf8')) as { grants?: unknown[] };
    file.grants = [{ owner: 'admin', to: 'watcher' }];
    writeFileSync(usersFile, JSON.stringify(file), { mode: 0o600 });
    const s = await restart({ usersFile });
    const created = await ask(
      s,
      requestXml(
        '1.4',
        `<BatchItem><Operation type="Enumeration" value="Create"/><RequestPayload>
        <ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>
        <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute>
        <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="128"/></Attribute>
        <Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="roles-key"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>
        </TemplateAttribute></RequestPayload></BatchItem>`,
      ),
    );
    const uid = valueOf(created.xml, 'UniqueIdentifier') ?? '';
    t.truthy(uid, created.xml);
    const op = (operation: string, payload: string): string =>
      requestXml(
        '1.4',
        `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`,
      );
    const uidXml = `<UniqueIdentifier type="TextString" value="${uid}"/>`;
    const locateByName = op(
      'Locate',
      '<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="roles-key"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>',
    );
    const files = async (cn: string): Promise<{ cert: string; key: string; ca: string }> =>
      clientFiles(cn, { cn });
    const watcher = await files('watcher');
    t.regex((await ask(watcher, op('Get', uidXml))).xml, /KeyMaterial/, 'observer gets granted key material');
    t.regex(
      (await ask(watcher, op('Destroy', uidXml))).xml,
      /PermissionDenied/,
      'observer may not change objects',
    );
    t.regex(
      (await ask(watcher, op('Create', '<ObjectType type="Enumeration" value="SymmetricKey"/>'))).xml,
      /PermissionDenied[\s\S]*may not create/,
    );
    const inspector = await files('inspector');
    t.is(
      valueOf((await ask(inspector, locateByName)).xml, 'UniqueIdentifier'),
      uid,
      'auditor locates every object',
    );
    t.regex((await ask(inspector, op('GetAttributes', uidXml))).xml, /Success/);
    t.regex(
      (await ask(inspector, op('Get', uidXml))).xml,
      /PermissionDenied[\s\S]*may not read key material/,
      'auditor never reads key material',
    );
    const root = await files('root');
    t.regex((await ask(root, op('Get', uidXml))).xml, /KeyMaterial/, 'admin reads everything');
    const stranger = await files('stranger-creator');
    t.regex(
      (await ask(stranger, op('Get', uidXml))).xml,
      /ItemNotFound/,
      'a creator without a grant sees nothing',
    );
    t.notRegex((await ask(stranger, locateByName)).xml, /<UniqueIdentifier /);
  },
);
