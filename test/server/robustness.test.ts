/**
 * A failure inside the server that is not a KMIP answer (a bug of ours, simulated with a dispatcher that throws)
 * closes only that connection, is logged, and neither stops the process nor the other connections.
 */
import test from 'ava';
import { ttlv, type TtlvItem } from '../../src/ttlv/types.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { startBareServer } from '../support/bare-server.js';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';

test('a throwing dispatcher closes that connection only, and the failure is logged', async (t) => {
  const errors: string[] = [];
  let calls = 0;
  const answer: TtlvItem = ttlv.structure(tag('ResponseMessage'), []);
  const { port, files } = await startBareServer(t, {
    dispatcher: {
      handle: () => {
        calls += 1;
        return calls === 1 ? Promise.reject(new Error('simulated bug')) : Promise.resolve(answer);
      },
    },
    log: {
      info: () => undefined,
      warn: () => undefined,
      error: (message, fields) => errors.push(`${message} ${JSON.stringify(fields)}`),
    },
  });
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
