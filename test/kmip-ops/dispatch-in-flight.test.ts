/**
 * Dispatcher.requestsInFlight: the appliance decides from it where the token's work runs (on the event loop when no
 * other request waits for it). A count that stuck above 1 after a failure would send every later request to the
 * token thread; one that never rose would keep every request on the event loop.
 */
import test from 'ava';
import { principal } from '../../src/kmip-ops/access.js';
import { handler, type Services } from '../../src/kmip-ops/context.js';
import { Dispatcher } from '../../src/kmip-ops/dispatch.js';
import { readXmlMessages, messageToXml } from '../../src/kmip/text-messages.js';
import type { TtlvItem } from '../../src/ttlv/types.js';
import { requestXml } from '../support/kmip-client.js';

function message(operation: string): TtlvItem {
  const xml = requestXml(
    '1.4',
    `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload/></BatchItem>`,
  );
  const item = readXmlMessages(xml).messages[0]?.item;
  if (item === undefined) throw new Error('the request did not parse');
  return item;
}

test('requestsInFlight counts the messages being handled and falls back after success and failure', async (t) => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const waiting = (operation: string, fails: boolean) =>
    handler({
      operation,
      since: '1.0',
      access: 'info',
      decodeRequest: () => undefined,
      async execute() {
        await gate;
        if (fails) throw new Error('a bug of the handler');
        return undefined;
      },
      encodeResponse: () => [],
    });
  // Neither handler touches the store or the token.
  const services = {
    store: {},
    keys: {},
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    now: () => new Date(),
  } as unknown as Services;
  const dispatcher = new Dispatcher({
    handlers: [waiting('Query', false), waiting('DiscoverVersions', true)],
    services,
  });
  const who = principal('alice', ['admin']);
  t.is(dispatcher.requestsInFlight, 0);
  const succeeding = dispatcher.handle(message('Query'), who);
  const failing = dispatcher.handle(message('DiscoverVersions'), who);
  t.is(dispatcher.requestsInFlight, 2);
  release();
  const [ok, failed] = await Promise.all([succeeding, failing]);
  t.is(dispatcher.requestsInFlight, 0);
  t.regex(messageToXml(ok), /<ResultStatus type="Enumeration" value="Success"\/>/);
  t.regex(messageToXml(failed), /<ResultReason type="Enumeration" value="GeneralFailure"\/>/);
  // A message refused before any item runs (an unknown operation) is counted and released too.
  await dispatcher.handle(message('Poll'), who);
  t.is(dispatcher.requestsInFlight, 0);
});
