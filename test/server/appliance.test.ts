/**
 * The appliance over real mutual TLS, with a real SoftHSM2 token and LevelDB: batches and the ID placeholder,
 * version-faithful responses, access between principals, Locate paging, secrets never at rest in clear, restarts,
 * and hostile input that must neither crash the server nor disturb other connections.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { formatTag } from '../../src/ttlv/types.js';
import { checkTagsExist } from '../../src/kmip/fields.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import { requestXml, TestKmipClient, valueOf } from '../support/kmip-client.js';

let server: TestAppliance;
let admin: TestKmipClient;

test.before(async () => {
  server = await startTestAppliance({ limits: { maxMessageBytes: 64 * 1024, maxBatchCount: 8 } });
  admin = await TestKmipClient.connect(server.host, server.port, server);
});
test.after.always(async () => {
  admin.close();
  await server.dispose();
});

const item = (operation: string, payload: string, id?: string): string => `<BatchItem>
    <Operation type="Enumeration" value="${operation}"/>
    ${id === undefined ? '' : `<UniqueBatchItemID type="ByteString" value="${id}"/>`}
    <RequestPayload>${payload}</RequestPayload>
  </BatchItem>`;

const secretData = (hex: string): string => `<ObjectType type="Enumeration" value="SecretData"/>
  <TemplateAttribute/>
  <SecretData>
    <SecretDataType type="Enumeration" value="Password"/>
    <KeyBlock>
      <KeyFormatType type="Enumeration" value="Opaque"/>
      <KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue>
    </KeyBlock>
  </SecretData>`;

const createAes = (name: string, version = '1.4'): string =>
  version.startsWith('2.')
    ? `<ObjectType type="Enumeration" value="SymmetricKey"/>
  <Attributes>
    <CryptographicAlgorithm type="Enumeration" value="AES"/>
    <CryptographicLength type="Integer" value="256"/>
    <CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
    <Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>
  </Attributes>`
    : `<ObjectType type="Enumeration" value="SymmetricKey"/>
  <TemplateAttribute>
    <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute>
    <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="256"/></Attribute>
    <Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>
  </TemplateAttribute>`;

test.serial(
  'a batch uses the ID placeholder: Create, then Activate and Get without a Unique Identifier',
  async (t) => {
    const xml = await admin.requestXml(
      requestXml(
        '1.4',
        item('Create', createAes('batch-1'), '01') + item('Activate', '', '02') + item('Get', '', '03'),
      ),
    );
    t.is((xml.match(/value="Success"/g) ?? []).length, 3, xml);
    t.regex(xml, /<UniqueBatchItemID type="ByteString" value="03"\/>/);
    t.regex(xml, /<KeyMaterial type="ByteString" value="[0-9a-f]{64}"\/>/);
  },
);

test.serial('the ID placeholder is not shared between messages', async (t) => {
  await admin.request(requestXml('1.4', item('Create', createAes('placeholder-a'))));
  const xml = await admin.requestXml(requestXml('1.4', item('Get', '')));
  t.regex(xml, /value="OperationFailed"/);
  t.regex(xml, /ID placeholder/);
});

test.serial(
  'Batch Error Continuation: Stop ends at the failure, Continue goes on, Undo answers the failure (undo.test.ts)',
  async (t) => {
    const failing = item('Get', '<UniqueIdentifier type="TextString" value="missing"/>');
    const ok = item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>');
    const stop = await admin.requestXml(requestXml('1.4', failing + ok));
    t.is(
      (stop.match(/<BatchItem>/g) ?? []).length,
      1,
      'Stop (the default) returns no item after the failure',
    );
    t.regex(stop, /ItemNotFound/);
    const cont = await admin.requestXml(
      requestXml('1.4', failing + ok, '<BatchErrorContinuationOption type="Enumeration" value="Continue"/>'),
    );
    t.is((cont.match(/<BatchItem>/g) ?? []).length, 2);
    t.regex(cont, /ItemNotFound[\s\S]*Success/);
    const undo = await admin.requestXml(
      requestXml('1.4', failing + ok, '<BatchErrorContinuationOption type="Enumeration" value="Undo"/>'),
    );
    t.is((undo.match(/<BatchItem>/g) ?? []).length, 1, 'Undo, like Stop, runs nothing after the failure');
    t.regex(undo, /ItemNotFound/);
  },
);

test.serial('a batch over the configured maximum is refused as Invalid Message', async (t) => {
  const ok = item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>');
  const xml = await admin.requestXml(requestXml('1.4', ok.repeat(9)));
  t.regex(xml, /InvalidMessage/);
  t.regex(xml, /at most 8/);
});

for (const version of ['1.0', '1.2', '1.4', '2.0', '2.1']) {
  test.serial(`KMIP ${version}: every tag of every response exists in ${version}`, async (t) => {
    const created = await admin.requestXml(
      requestXml(version, item('Create', createAes(`v-${version}`, version))),
    );
    const uid = valueOf(created, 'UniqueIdentifier');
    t.truthy(uid, created);
    const uidXml = `<UniqueIdentifier type="TextString" value="${uid ?? ''}"/>`;
    for (const payload of [
      item('GetAttributes', uidXml),
      item('GetAttributeList', uidXml),
      item('Get', uidXml),
      item('Locate', ''),
      item(
        'Query',
        '<QueryFunction type="Enumeration" value="QueryOperations"/><QueryFunction type="Enumeration" value="QueryObjects"/>',
      ),
    ]) {
      const response = await admin.request(requestXml(version, payload));
      t.notThrows(() => {
        checkTagsExist(response, version as '1.0');
      });
    }
    const attributes = await admin.requestXml(requestXml(version, item('GetAttributes', uidXml)));
    // Fresh (1.1+) and Original Creation Date (1.3+) never reach an older client; Attribute Index is 1.x only.
    if (version === '1.0') t.notRegex(attributes, /Fresh|OriginalCreationDate/);
    t.regex(attributes, /Cryptographic Algorithm|CryptographicAlgorithm/);
  });
}

test.serial('Discover Versions with an empty payload lists every version, newest first', async (t) => {
  const xml = await admin.requestXml(requestXml('1.1', item('DiscoverVersions', '')));
  const versions = [
    ...xml.matchAll(
      /Major type="Integer" value="(\d)"\/>\s*<ProtocolVersionMinor type="Integer" value="(\d)"/g,
    ),
  ]
    .map((m) => `${m[1] ?? ''}.${m[2] ?? ''}`)
    .slice(1);
  t.deepEqual(versions, ['2.1', '2.0', '1.4', '1.3', '1.2', '1.1', '1.0']);
  const offered = await admin.requestXml(
    requestXml(
      '1.1',
      item(
        'DiscoverVersions',
        '<ProtocolVersion><ProtocolVersionMajor type="Integer" value="1"/><ProtocolVersionMinor type="Integer" value="2"/></ProtocolVersion><ProtocolVersion><ProtocolVersionMajor type="Integer" value="3"/><ProtocolVersionMinor type="Integer" value="0"/></ProtocolVersion>',
      ),
    ),
  );
  t.is((offered.match(/<ProtocolVersion>/g) ?? []).length, 2, 'the header, and 1.2 only');
});

test.serial('Locate pages newest first, and counts with Located Items when given Offset Items', async (t) => {
  const group = `<Attribute><AttributeName type="TextString" value="Object Group"/><AttributeValue type="TextString" value="paging"/></Attribute>`;
  const uids: string[] = [];
  for (let i = 0; i < 7; i++) {
    const xml = await admin.requestXml(
      requestXml(
        '1.4',
        item(
          'Create',
          `<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute>
            <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute>
            <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="128"/></Attribute>
            ${group}</TemplateAttribute>`,
        ),
      ),
    );
    uids.push(valueOf(xml, 'UniqueIdentifier') ?? '');
  }
  const page = await admin.requestXml(
    requestXml(
      '1.4',
      item(
        'Locate',
        `<MaximumItems type="Integer" value="3"/><OffsetItems type="Integer" value="2"/>${group}`,
      ),
    ),
  );
  t.is(valueOf(page, 'LocatedItems'), '7');
  // Newest first (KMIP 2.0 §6.1.28; the 1.4 test cases TC-OFFSET-1-14 expect the same order).
  const newest = [...uids].reverse();
  t.deepEqual(
    [0, 1, 2].map((i) => valueOf(page, 'UniqueIdentifier', i)),
    newest.slice(2, 5),
  );
  // Located Items answers a request with Offset Items; Maximum Items alone gets the identifiers only (TC-OFFSET).
  const first = await admin.requestXml(
    requestXml('1.4', item('Locate', `<MaximumItems type="Integer" value="2"/>${group}`)),
  );
  t.notRegex(first, /LocatedItems/);
  t.deepEqual(
    [0, 1].map((i) => valueOf(first, 'UniqueIdentifier', i)),
    newest.slice(0, 2),
  );
  const all = await admin.requestXml(requestXml('1.4', item('Locate', group)));
  t.notRegex(all, /LocatedItems/);
  t.deepEqual(
    newest.map((_, i) => valueOf(all, 'UniqueIdentifier', i)),
    newest,
  );
  // KMIP 1.2 has no Located Items: it must not appear.
  const old = await admin.requestXml(
    requestXml('1.2', item('Locate', `<MaximumItems type="Integer" value="2"/>${group}`)),
  );
  t.notRegex(old, /LocatedItems/);
  t.is((old.match(/<UniqueIdentifier /g) ?? []).length, 2);
});

test.serial("another principal cannot Get, Destroy, modify or Locate the first one's objects", async (t) => {
  const created = await admin.requestXml(requestXml('1.4', item('Create', createAes('private-to-admin'))));
  const uid = valueOf(created, 'UniqueIdentifier') ?? '';
  const files = await server.issueClient('tenant-b');
  const other = await TestKmipClient.connect(server.host, server.port, files);
  try {
    const uidXml = `<UniqueIdentifier type="TextString" value="${uid}"/>`;
    for (const [operation, payload] of [
      ['Get', uidXml],
      ['Destroy', uidXml],
      ['GetAttributes', uidXml],
      [
        'AddAttribute',
        `${uidXml}<Attribute><AttributeName type="TextString" value="x-note"/><AttributeValue type="TextString" value="hi"/></Attribute>`,
      ],
    ] as const) {
      const xml = await other.requestXml(requestXml('1.4', item(operation, payload)));
      t.regex(xml, /ItemNotFound/, `${operation} by another principal`);
    }
    const located = await other.requestXml(
      requestXml(
        '1.4',
        item(
          'Locate',
          '<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="private-to-admin"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>',
        ),
      ),
    );
    t.notRegex(located, /<UniqueIdentifier /);
    const mine = await admin.requestXml(
      requestXml(
        '1.4',
        item(
          'Locate',
          '<Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="private-to-admin"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>',
        ),
      ),
    );
    t.is(valueOf(mine, 'UniqueIdentifier'), uid);
  } finally {
    other.close();
  }
});

test.serial(
  'custom attributes: three added in one batch, located by value, modified and deleted',
  async (t) => {
    const created = await admin.requestXml(requestXml('1.4', item('Create', createAes('custom-attrs'))));
    const uid = valueOf(created, 'UniqueIdentifier') ?? '';
    const uidXml = `<UniqueIdentifier type="TextString" value="${uid}"/>`;
    const add = (name: string, value: string): string =>
      item(
        'AddAttribute',
        `${uidXml}<Attribute><AttributeName type="TextString" value="${name}"/><AttributeValue type="TextString" value="${value}"/></Attribute>`,
      );
    const added = await admin.requestXml(
      requestXml(
        '1.4',
        add('x-Vendor-Key-Id', 'k1') + add('x-Vendor-Cluster', 'c7') + add('x-Vendor-Host', 'h2'),
      ),
    );
    t.is((added.match(/value="Success"/g) ?? []).length, 3, added);
    const located = await admin.requestXml(
      requestXml(
        '1.4',
        item(
          'Locate',
          '<Attribute><AttributeName type="TextString" value="x-Vendor-Cluster"/><AttributeValue type="TextString" value="c7"/></Attribute>',
        ),
      ),
    );
    t.is(valueOf(located, 'UniqueIdentifier'), uid);
    const modified = await admin.requestXml(
      requestXml(
        '1.4',
        item(
          'ModifyAttribute',
          `${uidXml}<Attribute><AttributeName type="TextString" value="x-Vendor-Cluster"/><AttributeValue type="TextString" value="c8"/></Attribute>`,
        ),
      ),
    );
    t.regex(modified, /Success/);
    const deleted = await admin.requestXml(
      requestXml(
        '1.4',
        item('DeleteAttribute', `${uidXml}<AttributeName type="TextString" value="x-Vendor-Host"/>`),
      ),
    );
    t.regex(deleted, /Success/);
    const attributes = await admin.requestXml(requestXml('1.4', item('GetAttributes', uidXml)));
    t.regex(attributes, /x-Vendor-Cluster"\/>\s*<AttributeValue type="TextString" value="c8"/);
    t.notRegex(attributes, /x-Vendor-Host/);
    const readOnly = await admin.requestXml(
      requestXml(
        '1.4',
        item(
          'ModifyAttribute',
          `${uidXml}<Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="128"/></Attribute>`,
        ),
      ),
    );
    t.regex(readOnly, /PermissionDenied/);
  },
);

test.serial('no secret is ever at rest in clear under the data directory', async (t) => {
  const key = Buffer.from('5e'.repeat(4) + 'c0ffee11'.repeat(7), 'hex');
  const password = Buffer.from('kmipd-known-password-7f3a9c');
  const registered = await admin.requestXml(
    requestXml(
      '1.4',
      item(
        'Register',
        `<ObjectType type="Enumeration" value="SymmetricKey"/><TemplateAttribute/>
        <SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
          <KeyValue><KeyMaterial type="ByteString" value="${key.toString('hex')}"/></KeyValue>
          <CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/>
        </KeyBlock></SymmetricKey>`,
      ) + item('Register', secretData(password.toString('hex'))),
    ),
  );
  t.is((registered.match(/value="Success"/g) ?? []).length, 2, registered);
  const uid = valueOf(registered, 'UniqueIdentifier') ?? '';
  const got = await admin.requestXml(
    requestXml('1.4', item('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`)),
  );
  t.regex(got, new RegExp(key.toString('hex')), 'the key reads back');
  // Let LevelDB flush its log, then read every file.
  await server.stop();
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(server.dataDir);
  t.true(
    files.some((f) => f.includes('store')),
    'the store has files',
  );
  // The audit trail has one event per batch item, naming who, from where, what and the outcome.
  const audit = readFileSync(join(server.dataDir, 'logs', 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  const registers = audit.filter((e) => e['action'] === 'Register');
  t.true(registers.length >= 2);
  t.like(registers.at(-1), {
    outcome: 'success',
    initiator: { id: 'admin' },
    target: { ids: [valueOf(registered, 'UniqueIdentifier', 1)] },
  });
  const initiator = (registers.at(-1)?.['initiator'] ?? {}) as Record<string, unknown>;
  t.regex(String(initiator['host']), /^127\.0\.0\.1:\d+$/, 'client address');
  t.regex(String(initiator['credential']), /^[0-9a-f]{64}$/, 'certificate fingerprint');
  for (const file of files) {
    const bytes = readFileSync(file);
    t.false(bytes.includes(key), `${file} holds the key in clear`);
    t.false(bytes.includes(password), `${file} holds the password in clear`);
  }
  // The test restarts the server for the tests after it.
  server = await startTestAppliance({
    dataDir: server.dataDir,
    limits: { maxMessageBytes: 64 * 1024, maxBatchCount: 8 },
  });
  admin = await TestKmipClient.connect(server.host, server.port, server);
  const again = await admin.requestXml(
    requestXml('1.4', item('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`)),
  );
  t.regex(again, new RegExp(key.toString('hex')), 'the key survives a restart');
});

function rawConnection(): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      host: server.host,
      port: server.port,
      ca: readFileSync(server.ca),
      cert: readFileSync(server.cert),
      key: readFileSync(server.key),
      servername: 'localhost',
    });
    socket.once('secureConnect', () => {
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

function closedWithin(socket: tls.TLSSocket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      resolve(false);
    }, ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
    socket.resume();
  });
}

test.serial(
  'garbage, a truncated message and an oversized header close only their own connection',
  async (t) => {
    const garbage = await rawConnection();
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    t.true(await closedWithin(garbage, 5000), 'garbage closes the connection');
    const oversized = await rawConnection();
    oversized.write(Buffer.from('42007801ffffff00', 'hex'));
    t.true(
      await closedWithin(oversized, 5000),
      'a header over the size limit closes the connection before any body',
    );
    const truncated = await rawConnection();
    truncated.write(Buffer.from('4200780100000040420077010000', 'hex'));
    truncated.end();
    t.true(await closedWithin(truncated, 5000));
    // Others are still served.
    const xml = await admin.requestXml(
      requestXml('1.4', item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>')),
    );
    t.regex(xml, /Success/);
  },
);

test.serial(
  'a well-framed message that is not valid TTLV gets Invalid Message and the connection goes on',
  async (t) => {
    const client = await TestKmipClient.connect(server.host, server.port, server);
    try {
      // A Request Message holding one Integer whose padding is not zero.
      const bad = Buffer.from('420078010000001042000d020000000400000001000000ff', 'hex');
      const response = decodeTtlv(await client.sendBytes(bad));
      const { messageToXml } = await import('../../src/kmip/text-messages.js');
      const xml = messageToXml(response);
      t.regex(xml, /InvalidMessage/);
      t.regex(xml, /bad-padding/);
      const after = await client.requestXml(
        requestXml('1.4', item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>')),
      );
      t.regex(after, /Success/, 'the same connection keeps working');
    } finally {
      client.close();
    }
  },
);

test.serial('a request with a tag its version does not define is refused by name', async (t) => {
  // Offset Items is KMIP 1.3+: a 1.0 client that sends it is told so.
  // Written by tag number: the 1.0 vocabulary of the XML reader has no name for it either.
  const offsetItems = `0x${formatTag(tag('OffsetItems'))}`;
  const xml = await admin.requestXml(
    requestXml('1.0', item('Locate', `<TTLV tag="${offsetItems}" type="Integer" value="1"/>`)),
  );
  t.regex(xml, /InvalidMessage/);
  t.regex(xml, /not defined in KMIP 1\.0/);
});

test.serial(
  'a Client Correlation Value stays in the request: the response header carries no correlation value',
  async (t) => {
    const xml = await admin.requestXml(
      requestXml(
        '1.4',
        item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>'),
        '<ClientCorrelationValue type="TextString" value="trace-42"/>',
      ),
    );
    t.regex(xml, /Success/);
    t.notRegex(xml, /CorrelationValue/, 'KMIP 2.1 §9.9; and PyKMIP cannot read a header with one');
  },
);

test.serial('Get Attributes returns named attributes in the order the request names them', async (t) => {
  const created = await admin.requestXml(requestXml('1.4', item('Create', createAes('ordered'))));
  const uid = valueOf(created, 'UniqueIdentifier') ?? '';
  const names = ['State', 'Cryptographic Length', 'Unique Identifier', 'Cryptographic Algorithm'];
  const xml = await admin.requestXml(
    requestXml(
      '1.4',
      item(
        'GetAttributes',
        `<UniqueIdentifier type="TextString" value="${uid}"/>` +
          names.map((n) => `<AttributeName type="TextString" value="${n}"/>`).join(''),
      ),
    ),
  );
  const order = [...xml.matchAll(/<AttributeName type="TextString" value="([^"]+)"\/>/g)].map((m) => m[1]);
  t.deepEqual(order, names);
});
