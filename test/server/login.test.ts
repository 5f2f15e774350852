/**
 * Login and Logout (KMIP 2.0 §6.1.30-6.1.31) over real mutual TLS at 2.1: a ticket presented as the request's
 * Credential (Credential Type Ticket) serves its Request Count of requests, then the message is refused with Usage
 * Limit Exceeded; after Logout each item is Invalid Ticket; another client's certificate cannot use the ticket.
 */
import test from 'ava';
import { requestXml, TestKmipClient } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { server, connection } = serverFixture(test);

const ticketXml = (value: string): string =>
  `<Ticket><TicketType type="Enumeration" value="Login"/><TicketValue type="ByteString" value="${value}"/></Ticket>`;
const withTicket = (value: string): string =>
  `<Authentication><Credential><CredentialType type="Enumeration" value="Ticket"/><CredentialValue>${ticketXml(value)}</CredentialValue></Credential></Authentication>`;
const item = (operation: string, payload: string): string =>
  `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
const query = item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>');

async function login(client: TestKmipClient, count?: number): Promise<string> {
  const answer = await client.requestXml(
    requestXml(
      '2.1',
      item(
        'Login',
        `<LeaseTime type="Interval" value="0"/>${count === undefined ? '' : `<RequestCount type="Integer" value="${String(count)}"/>`}`,
      ),
    ),
  );
  const value = /TicketValue type="ByteString" value="([0-9a-f]+)"/.exec(answer)?.[1];
  if (value === undefined) throw new Error(`Login answered no ticket:\n${answer}`);
  return value;
}

const outcome = (xml: string): string =>
  `${/ResultStatus type="Enumeration" value="(\w+)"/.exec(xml)?.[1] ?? '?'}/${/ResultReason type="Enumeration" value="(\w+)"/.exec(xml)?.[1] ?? '-'}`;

test.serial('a ticket serves its Request Count of requests, then the message is refused', async (t) => {
  const ticket = await login(connection(), 2);
  t.is(ticket.length, 64, '32 random bytes');
  for (let i = 0; i < 2; i++) {
    t.is(outcome(await connection().requestXml(requestXml('2.1', query, withTicket(ticket)))), 'Success/-');
  }
  const spent = await connection().requestXml(requestXml('2.1', query, withTicket(ticket)));
  t.is(outcome(spent), 'OperationFailed/UsageLimitExceeded');
  t.false(spent.includes('<Operation '), 'a refusal of the whole message, not of an operation');
});

test.serial('after Logout the ticket is Invalid Ticket for each item', async (t) => {
  const ticket = await login(connection());
  const out = await connection().requestXml(
    requestXml('2.1', item('Logout', ticketXml(ticket)), withTicket(ticket)),
  );
  t.is(outcome(out), 'Success/-');
  const after = await connection().requestXml(requestXml('2.1', query, withTicket(ticket)));
  t.is(outcome(after), 'OperationFailed/InvalidTicket');
  t.true(after.includes('value="Query"'), 'the item is answered, with its operation');
  const unknown = await connection().requestXml(requestXml('2.1', query, withTicket('00'.repeat(32))));
  t.is(outcome(unknown), 'OperationFailed/InvalidTicket', 'a ticket never issued');
  const again = await connection().requestXml(requestXml('2.1', item('Logout', ticketXml(ticket))));
  t.is(outcome(again), 'OperationFailed/InvalidTicket', 'a second Logout');
});

test.serial("another client's certificate cannot use the ticket", async (t) => {
  const ticket = await login(connection());
  const files = await server().issueClient('ticket-thief');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  t.teardown(() => {
    other.close();
  });
  const stolen = await other.requestXml(requestXml('2.1', query, withTicket(ticket)));
  t.is(outcome(stolen), 'OperationFailed/InvalidTicket');
  t.is(
    outcome(await connection().requestXml(requestXml('2.1', query, withTicket(ticket)))),
    'Success/-',
    'still its owner’s',
  );
});

test.serial('Login is a KMIP 2.x operation', async (t) => {
  const answer = await connection().requestXml(requestXml('1.4', item('Login', '')));
  t.is(outcome(answer), 'OperationFailed/OperationNotSupported');
});
