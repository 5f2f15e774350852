/**
 * ClientActivity: how many connections sent a request lately. The appliance runs the token's work off the event
 * loop only when it says more than one; a count that never fell would slow a lone client down (a thread hand-off
 * per request), one that never rose would keep every busy server on the event loop.
 */
import test from 'ava';
import { tag } from '../../src/kmip/vocabulary.js';
import { ClientActivity } from '../../src/server/client-activity.js';
import { ttlv, type TtlvItem } from '../../src/ttlv/types.js';
import { startBareServer } from '../support/bare-server.js';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';

function clocked(): { activity: ClientActivity; advance: (ms: number) => void } {
  let now = 1_000;
  return {
    activity: new ClientActivity(() => now),
    advance: (ms) => {
      now += ms;
    },
  };
}

test('each connection counts once, however many requests it sends', (t) => {
  const { activity, advance } = clocked();
  t.is(activity.activeConnections(), 0);
  for (let i = 0; i < 5; i++) activity.noteRequest('127.0.0.1:5001');
  advance(2);
  t.is(activity.activeConnections(), 1, 'one connection');
  activity.noteRequest('127.0.0.1:5002');
  activity.noteRequest('127.0.0.1:5003');
  advance(2);
  t.is(activity.activeConnections(), 3);
});

test('a connection quiet for more than 20 ms no longer counts, and counts again when it sends', (t) => {
  const { activity, advance } = clocked();
  activity.noteRequest('a:1');
  activity.noteRequest('b:2');
  advance(15);
  activity.noteRequest('b:2');
  advance(10);
  t.is(activity.activeConnections(), 1, 'a:1 sent 25 ms ago, b:2 10 ms ago');
  advance(25);
  t.is(activity.activeConnections(), 0);
  activity.noteRequest('a:1');
  advance(2);
  t.is(activity.activeConnections(), 1);
});

test('the count is made at most once a millisecond', (t) => {
  const { activity, advance } = clocked();
  activity.noteRequest('a:1');
  advance(2);
  t.is(activity.activeConnections(), 1);
  activity.noteRequest('b:2');
  t.is(activity.activeConnections(), 1, 'within the same millisecond: the last count');
  advance(1);
  t.is(activity.activeConnections(), 2);
});

test('a client with a connection per request counts as one: a closed connection is forgotten at once', (t) => {
  const { activity, advance } = clocked();
  for (let i = 0; i < 10; i++) {
    const peer = `10.0.0.1:${String(20_000 + i)}`;
    activity.noteRequest(peer);
    t.is(activity.activeConnections(), 1, `request ${String(i)}`);
    activity.forget(peer);
    advance(5);
  }
  t.is(activity.activeConnections(), 0);
});

test('connections that ended are forgotten even when nothing asks for the count', (t) => {
  const { activity, advance } = clocked();
  // A connection per request for a minute, 100 a second, and no GCM unseal to ask for the count.
  for (let i = 0; i < 6_000; i++) {
    activity.noteRequest(`10.0.0.1:${String(10_000 + i)}`);
    advance(10);
  }
  t.true(activity.tracked <= 3, `entries held: ${String(activity.tracked)}`);
  t.is(activity.activeConnections(), 2, 'the requests of the last 20 ms: 10 and 20 ms ago');
});

test('the listener tells it of each request, under the connection peer address', async (t) => {
  const answer: TtlvItem = ttlv.structure(tag('ResponseMessage'), []);
  const peers: string[] = [];
  const activity = new ClientActivity();
  const noted = activity.noteRequest.bind(activity);
  activity.noteRequest = (peer) => {
    peers.push(peer);
    noted(peer);
  };
  const { port, files } = await startBareServer(t, {
    dispatcher: { handle: () => Promise.resolve(answer) },
    activity,
  });
  const query = requestXml(
    '1.4',
    '<BatchItem><Operation type="Enumeration" value="Query"/><RequestPayload/></BatchItem>',
  );
  const first = await TestKmipClient.connect('127.0.0.1', port, files);
  const second = await TestKmipClient.connect('127.0.0.1', port, files);
  await first.request(query);
  await first.request(query);
  await second.request(query);
  t.is(activity.activeConnections(), 2, 'two connections open and busy');
  first.close();
  second.close();
  t.is(peers.length, 3);
  t.is(peers[0], peers[1], 'one connection, one peer address');
  t.not(peers[0], peers[2]);
  t.regex(peers[2] ?? '', /^127\.0\.0\.1:\d+$/);
  // The server sees each close a moment after the client's.
  for (let wait = 0; wait < 100 && activity.tracked > 0; wait++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  t.is(activity.tracked, 0, 'both connections forgotten once closed');
});
