/**
 * The runner's HTTPS client against a stub HTTPS server that records what it is sent and echoes it back: each
 * encoding goes out with its own Content-Type and body form, and the answer is read back to the same TTLV.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { HttpsConformanceClient, type MessageEncoding } from '../../src/conformance/client.js';
import { readXmlMessages } from '../../src/kmip/text-messages.js';
import { ensureLabPki } from '../../src/pki/lab-pki.js';
import { requestXml } from '../support/kmip-client.js';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  type: string | undefined;
  body: Buffer;
}

const message = readXmlMessages(
  requestXml('2.1', '<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload/></BatchItem>'),
).messages[0]?.item;

async function stub(
  t: ExecutionContext,
  answer: (seen: Seen, response: ServerResponse) => void,
): Promise<{ port: number; seen: Seen[]; credentials: { ca: Buffer; cert: Buffer; key: Buffer } }> {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-https-client-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const { paths } = await ensureLabPki(join(dir, 'certs'));
  const seen: Seen[] = [];
  const server = https.createServer(
    { cert: readFileSync(paths.serverCert), key: readFileSync(paths.serverKey) },
    (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const record = {
          method: request.method,
          url: request.url,
          type: request.headers['content-type'],
          body: Buffer.concat(chunks),
        };
        seen.push(record);
        answer(record, response);
      });
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    seen,
    credentials: {
      ca: readFileSync(paths.ca),
      cert: readFileSync(paths.adminCert),
      key: readFileSync(paths.adminKey),
    },
  };
}

const echo = (seen: Seen, response: ServerResponse): void => {
  response.writeHead(200, { 'Content-Type': seen.type ?? '' });
  response.end(seen.body);
};

test('each encoding is POST /kmip with its Content-Type and body form, read back to the same TTLV', async (t) => {
  if (!message) return t.fail('the test request does not parse');
  const { port, seen, credentials } = await stub(t, echo);
  const expected: [MessageEncoding, string, (body: Buffer) => boolean][] = [
    [
      'TTLV',
      'application/octet-stream',
      (body) => body.subarray(0, 4).equals(Buffer.from([0x42, 0x00, 0x78, 0x01])),
    ],
    ['KMIP XML', 'text/xml', (body) => body.toString('utf8').startsWith('<RequestMessage>')],
    [
      'KMIP JSON',
      'application/json',
      (body) => (JSON.parse(body.toString('utf8')) as { tag?: unknown }).tag === 'RequestMessage',
    ],
  ];
  for (const [encoding, type, bodyIsOfIt] of expected) {
    const client = new HttpsConformanceClient({ host: '127.0.0.1', port }, credentials, encoding);
    try {
      t.deepEqual(await client.request(message), message, `${encoding}: the echo reads back`);
    } finally {
      client.close();
    }
    const last = seen.at(-1);
    t.is(last?.method, 'POST');
    t.is(last?.url, '/kmip');
    t.is(last?.type, type);
    t.true(last !== undefined && bodyIsOfIt(last.body), `${encoding}: the body is in that encoding`);
  }
});

test('an answer that is not HTTP 200 in the same Content-Type is an error naming it', async (t) => {
  if (!message) return t.fail('the test request does not parse');
  let status = 405;
  let type = 'text/plain';
  const { port, credentials } = await stub(t, (_seen, response) => {
    response.writeHead(status, { 'Content-Type': type });
    response.end('nope');
  });
  const client = new HttpsConformanceClient({ host: '127.0.0.1', port }, credentials, 'KMIP XML');
  t.teardown(() => {
    client.close();
  });
  await t.throwsAsync(client.request(message), { message: /HTTP 405 from POST \/kmip: nope/ });
  status = 200;
  type = 'application/json';
  await t.throwsAsync(client.request(message), { message: /application\/json, not text\/xml/ });
});
