/**
 * Login and Logout (KMIP 2.0 §6.1.30-6.1.31) over real mutual TLS at 2.1: a ticket presented as the request's
 * Credential (Credential Type Ticket) serves its Request Count of requests, then the message is refused with Usage
 * Limit Exceeded; after Logout each item is Invalid Ticket; another client's certificate cannot use the ticket.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import {
  activeSinceAnHour,
  enumXml,
  parametersAttr,
  parametersXml,
  uidXml,
  usage,
  VersionedClient,
} from '../support/crypto-client.js';
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

const right = (operations: readonly string[], objects: readonly string[] = []): string =>
  `<Right><Operations>${operations.map((o) => `<Operation type="Enumeration" value="${o}"/>`).join('')}</Operations>${
    objects.length === 0
      ? ''
      : `<Objects>${objects.map((uid) => `<UniqueIdentifier type="TextString" value="${uid}"/>`).join('')}</Objects>`
  }</Right>`;

async function delegatedLogin(client: TestKmipClient, rights: string, count = 0): Promise<string> {
  const answer = await client.requestXml(
    requestXml(
      '2.0',
      item(
        'DelegatedLogin',
        `<LeaseTime type="Interval" value="0"/><RequestCount type="Integer" value="${String(count)}"/><Rights>${rights}</Rights>`,
      ),
    ),
  );
  const value = /TicketValue type="ByteString" value="([0-9a-f]+)"/.exec(answer)?.[1];
  if (value === undefined) throw new Error(`Delegated Login answered no ticket:\n${answer}`);
  return value;
}

async function createKey(client: TestKmipClient): Promise<string> {
  const answer = await client.requestXml(
    requestXml(
      '2.0',
      item(
        'Create',
        '<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="128"/><CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/></Attributes>',
      ),
    ),
  );
  const uid = /UniqueIdentifier type="TextString" value="([^"]+)"/.exec(answer)?.[1];
  if (uid === undefined) throw new Error(`Create answered no Unique Identifier:\n${answer}`);
  return uid;
}

const getLength = (uid: string): string =>
  item(
    'GetAttributes',
    `<UniqueIdentifier type="TextString" value="${uid}"/><AttributeReference type="Enumeration" value="CryptographicLength"/>`,
  );

test.serial(
  'a Delegated Login ticket allows only what its Rights allow, on the objects they name',
  async (t) => {
    const [granted, other] = [await createKey(connection()), await createKey(connection())];
    const ticket = await delegatedLogin(
      connection(),
      right(['Query', 'Log']) + right(['GetAttributes'], [granted]),
    );
    const send = async (body: string): Promise<string> =>
      connection().requestXml(requestXml('2.0', body, withTicket(ticket)));

    const listed = await send(query);
    t.is(outcome(listed), 'Success/-');
    const operations = [...listed.matchAll(/<Operation type="Enumeration" value="(\w+)"\/>/g)].map(
      (m) => m[1],
    );
    // The batch item's own Operation is Query; the payload lists what the Rights allow, and nothing else.
    t.deepEqual([...new Set(operations)].sort(), ['GetAttributes', 'Log', 'Query']);

    const length = await send(getLength(granted));
    t.is(outcome(length), 'Success/-');
    t.true(length.includes('<CryptographicLength type="Integer" value="128"/>'));
    t.is(
      outcome(await send(getLength(other))),
      'OperationFailed/PermissionDenied',
      'an object no Right names',
    );
    const get = await send(item('Get', `<UniqueIdentifier type="TextString" value="${granted}"/>`));
    t.is(outcome(get), 'OperationFailed/PermissionDenied', 'an operation no Right names');
    t.regex(get, /do not allow Get on /);
    t.is(
      outcome(await send(item('Login', '<LeaseTime type="Interval" value="0"/>'))),
      'OperationFailed/PermissionDenied',
    );
    // Without the ticket the same client may do everything its certificate allows.
    const plain = await connection().requestXml(
      requestXml('2.0', item('Get', `<UniqueIdentifier type="TextString" value="${granted}"/>`)),
    );
    t.is(outcome(plain), 'Success/-');
  },
);

test.serial(
  'a Right naming objects allows only requests that name them, and each object the operation loads',
  async (t) => {
    const kmip = new VersionedClient(connection(), '2.0');
    const granted = await createKey(connection());
    const name = `<Name><NameValue type="TextString" value="delegated-${granted}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name>`;
    await kmip.must('AddAttribute', `${uidXml(granted)}<NewAttribute>${name}</NewAttribute>`);
    const wrapper = await kmip.registerSymmetric(randomBytes(32), [
      usage('WrapKey Encrypt'),
      activeSinceAnHour,
      parametersAttr(enumXml('BlockCipherMode', 'NISTKeyWrap')),
    ]);
    const ticket = await delegatedLogin(
      connection(),
      right(['Locate']) + right(['Activate', 'Create', 'Get'], [granted]),
    );
    const send = async (body: string): Promise<string> =>
      connection().requestXml(requestXml('2.0', body, withTicket(ticket)));
    // Create names no object: a Right limited to objects does not allow it.
    const create = await send(
      item(
        'Create',
        '<ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="128"/></Attributes>',
      ),
    );
    t.is(outcome(create), 'OperationFailed/PermissionDenied');
    // Nor an Activate that names none, even when the ID placeholder holds the object the Right names: an
    // operation naming no object could as well make or find others.
    const batch = await send(item('Locate', `<Attributes>${name}</Attributes>`) + item('Activate', ''));
    t.regex(batch, /ResultReason type="Enumeration" value="PermissionDenied"/);
    t.true(batch.includes('do not allow Activate on no named object'), batch);
    t.is(outcome(await send(item('Activate', uidXml(granted)))), 'Success/-', 'named, it is allowed');
    // A Get of the object wrapped under a key no Right names is refused as the wrapping key is loaded.
    const wrapping = `<KeyWrappingSpecification>${enumXml('WrappingMethod', 'Encrypt')}<EncryptionKeyInformation>${uidXml(wrapper)}${parametersXml(enumXml('BlockCipherMode', 'NISTKeyWrap'))}</EncryptionKeyInformation></KeyWrappingSpecification>`;
    const wrapped = await send(item('Get', uidXml(granted) + wrapping));
    t.is(outcome(wrapped), 'OperationFailed/PermissionDenied');
    t.true(wrapped.includes(`do not allow Get on ${wrapper}`), wrapped);
    // Without the ticket the same Get is served.
    t.is((await kmip.call('Get', uidXml(granted) + wrapping)).outcome, 'Success/-');
  },
);

test.serial('a spent Delegated Login ticket fails each item, and serves no other client', async (t) => {
  const ticket = await delegatedLogin(connection(), right(['Query']), 1);
  const files = await server().issueClient('delegate-thief');
  const other = await TestKmipClient.connect(server().host, server().port, files);
  t.teardown(() => {
    other.close();
  });
  t.is(
    outcome(await other.requestXml(requestXml('2.0', query, withTicket(ticket)))),
    'OperationFailed/InvalidTicket',
  );
  t.is(outcome(await connection().requestXml(requestXml('2.0', query, withTicket(ticket)))), 'Success/-');
  const spent = await connection().requestXml(requestXml('2.0', query, withTicket(ticket)));
  t.is(outcome(spent), 'OperationFailed/UsageLimitExceeded');
  t.true(
    spent.includes('<Operation type="Enumeration" value="Query"/>'),
    'refused per item, with its operation',
  );
});

test.serial('Delegated Login refuses what it cannot honour', async (t) => {
  const ask = async (payload: string): Promise<string> =>
    outcome(await connection().requestXml(requestXml('2.0', item('DelegatedLogin', payload))));
  t.is(await ask('<LeaseTime type="Interval" value="0"/>'), 'OperationFailed/InvalidField', 'no Rights');
  t.is(
    await ask(
      '<UsageLimits><UsageLimitsTotal type="LongInteger" value="10"/><UsageLimitsUnit type="Enumeration" value="Object"/></UsageLimits><Rights>' +
        right(['Query']) +
        '</Rights>',
    ),
    'OperationFailed/FeatureNotSupported',
  );
  t.is(
    outcome(await connection().requestXml(requestXml('1.4', item('DelegatedLogin', '')))),
    'OperationFailed/OperationNotSupported',
  );
});

test.serial('a Delegated Login Lease Time may be the Date Time the ticket ends', async (t) => {
  const ask = (lease: string): Promise<string> =>
    connection().requestXml(
      requestXml('2.0', item('DelegatedLogin', `${lease}<Rights>${right(['Query'])}</Rights>`)),
    );
  const inAnHour = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const later = await ask(`<LeaseTime type="DateTime" value="${inAnHour}"/>`);
  t.is(outcome(later), 'Success/-', later);
  const past = await ask('<LeaseTime type="DateTime" value="2020-01-01T00:00:00Z"/>');
  t.is(outcome(past), 'OperationFailed/InvalidField');
});
