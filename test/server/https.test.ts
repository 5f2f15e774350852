/**
 * KMIP over HTTPS against a real appliance (SoftHSM2, LevelDB, lab PKI): `POST /kmip` with TTLV, KMIP XML and KMIP
 * JSON bodies, the same mutual TLS and principal as the TTLV listener, and the refusals of what is not a KMIP
 * request. (Its own file: one SoftHSM2 data directory per process.)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { decodeTtlv } from '../../src/ttlv/decode.js';
import { encodeTtlv } from '../../src/ttlv/encode.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import {
  messageToJson,
  messageToXml,
  readJsonMessages,
  readXmlMessages,
} from '../../src/kmip/text-messages.js';
import { startTestAppliance, type TestAppliance } from '../support/appliance.js';
import {
  httpsRequest,
  type HttpsAnswer,
  type HttpsFiles,
  type HttpsRequest,
} from '../support/https-client.js';
import { requestXml, TestKmipClient, valueOf } from '../support/kmip-client.js';

const maxMessageBytes = 8 * 1024;

let server: TestAppliance | undefined;
test.before(async () => {
  server = await startTestAppliance({ https: true, limits: { maxMessageBytes } });
});
test.after.always(async () => {
  await server?.dispose();
});

function running(): TestAppliance & { httpsPort: number } {
  if (server?.httpsPort === undefined) throw new Error('no appliance with HTTPS');
  return server as TestAppliance & { httpsPort: number };
}

function send(request: HttpsRequest, files?: HttpsFiles): Promise<HttpsAnswer> {
  const s = running();
  return httpsRequest(s.host, s.httpsPort, files ?? s, request);
}

const item = (operation: string, payload: string): string => `<BatchItem>
    <Operation type="Enumeration" value="${operation}"/>
    <RequestPayload>${payload}</RequestPayload>
  </BatchItem>`;

const createAes = (name: string): string => `<ObjectType type="Enumeration" value="SymmetricKey"/>
  <TemplateAttribute>
    <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="AES"/></Attribute>
    <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="256"/></Attribute>
    <Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute>
  </TemplateAttribute>`;

const getKey = (uid: string): string =>
  requestXml('1.4', item('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`));

function ttlvOf(xml: string): TtlvItem {
  const message = readXmlMessages(xml).messages[0]?.item;
  if (!message) throw new Error(`the test request does not parse: ${xml}`);
  return message;
}

/** The answer's KMIP message, read as its Content-Type says, shown as KMIP XML. */
function answerXml(answer: HttpsAnswer): string {
  const type = answer.headers['content-type'];
  const text = answer.body.toString('utf8');
  if (type === 'application/octet-stream') return messageToXml(decodeTtlv(answer.body));
  if (type === 'text/xml' || type === 'application/xml') return text;
  if (type === 'application/json') {
    const message = readJsonMessages(text).messages[0]?.item;
    if (!message) throw new Error(`the JSON answer does not read: ${text}`);
    return messageToXml(message);
  }
  throw new Error(`answer ${answer.status} of type ${type ?? 'none'}: ${text}`);
}

async function logHas(pattern: RegExp, file = 'kmipd.log'): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      if (pattern.test(readFileSync(join(running().dataDir, 'logs', file), 'utf8'))) return true;
    } catch {
      // not yet written
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

test.serial('TTLV body: Create, then Get of the same key, answered in TTLV', async (t) => {
  const create = await send({
    contentType: 'application/octet-stream',
    body: encodeTtlv(ttlvOf(requestXml('1.4', item('Create', createAes('over-https-ttlv'))))),
  });
  t.is(create.status, 200);
  t.is(create.headers['content-type'], 'application/octet-stream');
  t.is(create.headers['cache-control'], 'no-cache');
  const created = answerXml(create);
  t.regex(created, /<ResultStatus type="Enumeration" value="Success"\/>/);
  const uid = valueOf(created, 'UniqueIdentifier');
  if (uid === undefined) return t.fail(created);
  const get = answerXml(
    await send({ contentType: 'application/octet-stream', body: encodeTtlv(ttlvOf(getKey(uid))) }),
  );
  t.regex(get, /value="Success"/);
  t.is(valueOf(get, 'UniqueIdentifier'), uid);
  t.regex(get, /<KeyMaterial type="ByteString" value="[0-9a-f]{64}"\/>/);
});

test.serial('KMIP XML body (text/xml and application/xml): Create, then Get, answered in XML', async (t) => {
  const create = await send({
    contentType: 'text/xml',
    body: requestXml('1.4', item('Create', createAes('over-https-xml'))),
  });
  t.is(create.status, 200);
  t.is(create.headers['content-type'], 'text/xml');
  const created = create.body.toString('utf8');
  t.regex(created, /^<ResponseMessage>/, 'the body is the Response Message in KMIP XML');
  t.regex(created, /value="Success"/);
  const uid = valueOf(created, 'UniqueIdentifier');
  if (uid === undefined) return t.fail(created);
  const get = await send({ contentType: 'application/xml; charset=utf-8', body: getKey(uid) });
  t.is(get.headers['content-type'], 'application/xml');
  t.regex(get.body.toString('utf8'), /<KeyMaterial type="ByteString" value="[0-9a-f]{64}"\/>/);
});

test.serial('KMIP JSON body: Create (2.1, written by hand), then Get, answered in JSON', async (t) => {
  const create = {
    tag: 'RequestMessage',
    value: [
      {
        tag: 'RequestHeader',
        value: [
          {
            tag: 'ProtocolVersion',
            value: [
              { tag: 'ProtocolVersionMajor', type: 'Integer', value: 2 },
              { tag: 'ProtocolVersionMinor', type: 'Integer', value: 1 },
            ],
          },
          { tag: 'BatchCount', type: 'Integer', value: 1 },
        ],
      },
      {
        tag: 'BatchItem',
        value: [
          { tag: 'Operation', type: 'Enumeration', value: 'Create' },
          {
            tag: 'RequestPayload',
            value: [
              { tag: 'ObjectType', type: 'Enumeration', value: 'SymmetricKey' },
              {
                tag: 'Attributes',
                value: [
                  { tag: 'CryptographicAlgorithm', type: 'Enumeration', value: 'AES' },
                  { tag: 'CryptographicLength', type: 'Integer', value: 128 },
                  { tag: 'CryptographicUsageMask', type: 'Integer', value: 'Encrypt|Decrypt' },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
  const answer = await send({ contentType: 'application/json', body: JSON.stringify(create) });
  t.is(answer.status, 200);
  t.is(answer.headers['content-type'], 'application/json');
  const parsed = JSON.parse(answer.body.toString('utf8')) as { tag?: unknown };
  t.is(parsed.tag, 'ResponseMessage', 'the body is the Response Message in KMIP JSON');
  const created = answerXml(answer);
  t.regex(created, /value="Success"/);
  const uid = valueOf(created, 'UniqueIdentifier');
  if (uid === undefined) return t.fail(created);
  const get = answerXml(
    await send({
      contentType: 'application/json',
      body: JSON.stringify(
        messageToJson(
          ttlvOf(requestXml('2.1', item('Get', `<UniqueIdentifier type="TextString" value="${uid}"/>`))),
        ),
      ),
    }),
  );
  t.regex(get, /<KeyMaterial type="ByteString" value="[0-9a-f]{32}"\/>/);
});

test.serial('the principal is the HTTPS client certificate, as over TTLV', async (t) => {
  const s = running();
  const created = answerXml(
    await send({ contentType: 'text/xml', body: requestXml('1.4', item('Create', createAes('whose'))) }),
  );
  const uid = valueOf(created, 'UniqueIdentifier');
  if (uid === undefined) return t.fail(created);
  // The same certificate over the TTLV listener owns it ...
  const admin = await TestKmipClient.connect(s.host, s.port, s);
  t.teardown(() => {
    admin.close();
  });
  t.regex(await admin.requestXml(getKey(uid)), /value="Success"/);
  // ... and another certificate over HTTPS does not see it.
  const other = await s.issueClient('https-other');
  const theirs = answerXml(await send({ contentType: 'text/xml', body: getKey(uid) }, { ...other }));
  t.regex(theirs, /value="ItemNotFound"/);
  t.true(
    await logHas(/"initiator":\{"id":"https-other"/, 'audit.log'),
    'the audit trail names the HTTPS principal',
  );
});

test.serial(
  'no client certificate: refused by name in the request encoding, connection closed',
  async (t) => {
    const s = running();
    const answer = await send(
      { contentType: 'text/xml', body: requestXml('1.4', item('Create', createAes('anonymous'))) },
      { ca: s.ca },
    );
    t.is(answer.status, 200);
    t.is(answer.headers.connection, 'close');
    const xml = answerXml(answer);
    t.regex(xml, /value="AuthenticationNotSuccessful"/);
    t.regex(xml, /no client certificate was presented/);
    t.true(await logHas(/"cause":"no-client-certificate"/), 'the operational log names the cause');
    t.true(
      await logHas(/AuthenticationNotSuccessful\/no-client-certificate/, 'audit.log'),
      'and the audit trail',
    );
  },
);

test.serial('a body that does not decode gets Invalid Message in its own encoding', async (t) => {
  const ttlv = await send({ contentType: 'application/octet-stream', body: Buffer.from('not ttlv at all') });
  t.is(ttlv.headers['content-type'], 'application/octet-stream');
  t.regex(answerXml(ttlv), /value="InvalidMessage"/);
  const xml = await send({
    contentType: 'text/xml',
    body: '<RequestMessage><NoSuchTag type="Integer" value="1"/>',
  });
  t.is(xml.headers['content-type'], 'text/xml');
  t.regex(answerXml(xml), /value="InvalidMessage"/);
  const json = await send({ contentType: 'application/json', body: '{"tag": "RequestMessage", "value": [' });
  t.is(json.headers['content-type'], 'application/json');
  t.regex(answerXml(json), /value="InvalidMessage"/);
  const two = await send({
    contentType: 'text/xml',
    body: `<KMIP>${getKey('a')}${getKey('b')}</KMIP>`,
  });
  t.regex(answerXml(two), /value="InvalidMessage"[\s\S]*one message, not 2/);
});

test.serial('a Content-Type that is no KMIP encoding is refused with 415', async (t) => {
  const answer = await send({ contentType: 'text/plain', body: getKey('x') });
  t.is(answer.status, 415);
  t.regex(
    answer.body.toString('utf8'),
    /application\/octet-stream, text\/xml, application\/xml, application\/json/,
  );
  const latin1 = await send({ contentType: 'text/xml; charset=iso-8859-1', body: getKey('x') });
  t.is(latin1.status, 415);
  t.true(await logHas(/HTTP 415: Content-Type 'text\/plain'/));
});

test.serial('GET /kmip is 405 (Allow: POST), another path is 404', async (t) => {
  const get = await send({ method: 'GET' });
  t.is(get.status, 405);
  t.is(get.headers.allow, 'POST');
  const elsewhere = await send({ path: '/', contentType: 'text/xml', body: getKey('x') });
  t.is(elsewhere.status, 404);
  t.true(await logHas(/HTTP 405: method GET is not allowed/));
});

test.serial('a body over the message size limit is refused with 413, declared or streamed', async (t) => {
  const declared = await send({
    contentType: 'application/octet-stream',
    declaredLength: maxMessageBytes + 1,
  });
  t.is(declared.status, 413);
  t.is(declared.headers.connection, 'close');
  const streamed = await send({
    contentType: 'text/xml',
    body: [
      Buffer.alloc(maxMessageBytes / 2, 0x20),
      Buffer.alloc(maxMessageBytes / 2, 0x20),
      Buffer.from(' '),
    ],
  });
  t.is(streamed.status, 413);
  t.true(await logHas(/HTTP 413: the request body is larger than 8192 bytes/));
  // At the limit exactly, the body is read (and, being blanks, is no message).
  const atLimit = await send({ contentType: 'text/xml', body: Buffer.alloc(maxMessageBytes, 0x20) });
  t.is(atLimit.status, 200);
  t.regex(answerXml(atLimit), /value="InvalidMessage"/);
});

test.serial('stop() answers the request in flight over HTTPS, then the listener is gone', async (t) => {
  const s = running();
  // An RSA-3072 key pair takes the token a while: stop() is called while it is being made.
  const pending = send({
    contentType: 'text/xml',
    body: requestXml(
      '1.4',
      item(
        'CreateKeyPair',
        `<CommonTemplateAttribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Algorithm"/><AttributeValue type="Enumeration" value="RSA"/></Attribute>
          <Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="3072"/></Attribute>
        </CommonTemplateAttribute>`,
      ),
    ),
  });
  await new Promise((r) => setTimeout(r, 50));
  await s.stop();
  const answer = await pending;
  t.is(answer.status, 200);
  t.regex(answerXml(answer), /PrivateKeyUniqueIdentifier/, 'the request in flight was answered');
  await t.throwsAsync(send({ contentType: 'text/xml', body: getKey('x') }), { code: 'ECONNREFUSED' });
});
