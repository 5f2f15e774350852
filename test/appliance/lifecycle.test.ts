/**
 * The appliance's life: objects survive restarts and a master-key rotation; SIGTERM lets a request in flight
 * finish; settings resolve from flags, environment and file.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { resolveConfig } from '../../src/appliance/config.js';
import { hsmCommand } from '../../src/cli/hsm.js';
import { startTestAppliance } from '../support/appliance.js';
import { requestXml, TestKmipClient, valueOf } from '../support/kmip-client.js';

const root = resolve(import.meta.dirname, '../..');

const item = (operation: string, payload: string): string =>
  `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
const registerSecret = (hex: string): string =>
  item(
    'Register',
    `<ObjectType type="Enumeration" value="SecretData"/><TemplateAttribute/>
     <SecretData><SecretDataType type="Enumeration" value="Password"/><KeyBlock>
       <KeyFormatType type="Enumeration" value="Opaque"/><KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue>
     </KeyBlock></SecretData>`,
  );
const get = (uid: string): string => item('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`);

test.serial('objects of two owners survive a restart and a master-key rotation', async (t) => {
  let server = await startTestAppliance();
  const dataDir = server.dataDir;
  try {
    const tenant = await server.issueClient('tenant-rotation');
    const secrets = ['a1b2c3d4e5f60718', 'ffeeddccbbaa99887766554433221100'];
    const uids: string[] = [];
    for (const [i, files] of [server, tenant].entries()) {
      const client = await TestKmipClient.connect(server.host, server.port, files);
      uids.push(
        valueOf(
          await client.requestXml(requestXml('1.4', registerSecret(secrets[i] ?? ''))),
          'UniqueIdentifier',
        ) ?? '',
      );
      client.close();
    }
    t.is(server.appliance.hsmReport.masterLabel, 'kmipd-master-1');
    await server.stop();

    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = (chunk: string): boolean => {
      out.push(chunk);
      return true;
    };
    let code: number;
    try {
      code = await hsmCommand.run(['rotate-master', '--data', dataDir]);
    } finally {
      process.stdout.write = write;
    }
    t.is(code, 0);
    t.regex(
      out.join(''),
      /kmipd-master-1 -> kmipd-master-2; 2 owner KEKs rewrapped; retired: kmipd-master-1/,
    );

    server = await startTestAppliance({ dataDir });
    t.is(
      server.appliance.hsmReport.masterLabel,
      'kmipd-master-2',
      'the new master key is current after restart',
    );
    for (const [i, files] of [server, await server.issueClient('tenant-rotation')].entries()) {
      const client = await TestKmipClient.connect(server.host, server.port, files);
      const xml = await client.requestXml(requestXml('1.4', get(uids[i] ?? '')));
      client.close();
      t.regex(xml, new RegExp(`value="${secrets[i] ?? 'none'}"`), `object ${i} readable after rotation`);
    }
    // With the server running, rotation refuses to touch the store.
    const refused = await hsmCommand.run(['rotate-master', '--data', dataDir]).catch(() => 1);
    t.is(refused, 1);
  } finally {
    await server.dispose();
  }
});

test.serial('SIGTERM lets the request in flight finish, then the process exits 0', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kmipd-sigterm-'));
  t.teardown(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });
  const child = spawn(
    process.execPath,
    [join(root, 'bin/kmipd.js'), 'start', '--data', dataDir, '--port', '0'],
    {
      env: { ...process.env, KMIPD_FROM_SOURCE: '1', KMIPD_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((resolveExit) =>
    child.on('exit', (code) => {
      resolveExit(code);
    }),
  );
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`no listening line: ${stdout}`));
    }, 60_000);
    child.stdout.on('data', () => {
      const m = /listening on [^:]+:(\d+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
  });
  const certs = join(dataDir, 'certs');
  const client = await TestKmipClient.connect('127.0.0.1', port, {
    ca: join(certs, 'ca.pem'),
    cert: join(certs, 'admin.pem'),
    key: join(certs, 'admin.key'),
  });
  // An RSA-3072 key pair takes the token a while: SIGTERM arrives while it is being made.
  const pending = client.requestXml(
    requestXml(
      '1.4',
      item(
        'CreateKeyPair',
        `<CommonTemplateAttribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="RSA"/></Attribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="3072"/></Attribute>
        </CommonTemplateAttribute>`,
      ),
    ),
  );
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  const xml = await pending;
  t.regex(xml, /value="Success"/, 'the request in flight was answered');
  t.regex(xml, /PrivateKeyUniqueIdentifier/);
  t.is(await exited, 0);
  t.regex(stdout, /SIGTERM: finishing requests in flight[\s\S]*kmipd stopped/);
});

test('settings: flags over environment over config file over defaults', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-config-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const file = join(dir, 'kmipd.json');
  writeFileSync(
    file,
    JSON.stringify({ port: 7000, host: '0.0.0.0', tokenLabel: 'from-file', logLevel: 'debug' }),
  );
  const config = resolveConfig({ data: dir, port: '7001' }, { KMIPD_HOST: '127.0.0.2', KMIPD_PORT: '7002' });
  t.is(config.port, 7001, 'flag beats environment and file');
  t.is(config.host, '127.0.0.2', 'environment beats file');
  t.is(config.tokenLabel, 'from-file', "the data directory's kmipd.json is read");
  t.is(config.logLevel, 'debug');
  const defaults = resolveConfig({}, {}, undefined);
  t.is(defaults.port, 5696);
  t.is(defaults.host, '127.0.0.1');
  t.true(defaults.dataDir.endsWith('/data'));
  t.throws(() => resolveConfig({ 'tls-cert': 'a.pem' }, {}), { message: /go together/ });
  t.throws(() => resolveConfig({ port: '99999' }, {}), { message: /not a TCP port/ });
});
