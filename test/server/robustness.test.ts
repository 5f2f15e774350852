/**
 * A failure inside the server that is not a KMIP answer (a bug of ours, simulated with a dispatcher that throws)
 * closes only that connection, is logged, and neither stops the process nor the other connections.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ttlv, type TtlvItem } from '../../src/ttlv/types.js';
import { tag } from '../../src/kmip/vocabulary.js';
import type { Dispatcher } from '../../src/kmip-ops/dispatch.js';
import { ensureLabPki } from '../../src/pki/lab-pki.js';
import { KmipServer } from '../../src/server/server.js';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';

test('a throwing dispatcher closes that connection only, and the failure is logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kmipd-robust-'));
  t.teardown(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const { paths } = await ensureLabPki(join(dir, 'certs'));
  const errors: string[] = [];
  let calls = 0;
  const answer: TtlvItem = ttlv.structure(tag('ResponseMessage'), []);
  const dispatcher = {
    handle: () => {
      calls += 1;
      return calls === 1 ? Promise.reject(new Error('simulated bug')) : Promise.resolve(answer);
    },
  } as unknown as Dispatcher;
  const server = new KmipServer({
    host: '127.0.0.1',
    port: 0,
    tls: {
      cert: readFileSync(paths.serverCert),
      key: readFileSync(paths.serverKey),
      ca: readFileSync(paths.ca),
    },
    dispatcher,
    log: {
      info: () => undefined,
      warn: () => undefined,
      error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields)}`),
    },
  });
  const { port } = await server.listen();
  t.teardown(() => server.close());
  const files = { ca: paths.ca, cert: paths.adminCert, key: paths.adminKey };
  const query = requestXml(
    '1.4',
    '<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload/></BatchItem>',
  );
  const first = await TestKmipClient.connect('127.0.0.1', port, files);
  await t.throwsAsync(first.request(query), { message: /closed before a response/ });
  t.regex(errors.join('\n'), /connection failed.*simulated bug/);
  const second = await TestKmipClient.connect('127.0.0.1', port, files);
  t.is((await second.request(query)).tag, tag('ResponseMessage'), 'another connection is served');
  second.close();
});
