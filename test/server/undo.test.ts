/**
 * Batch Error Continuation Option Undo (KMIP 1.4 §6.13, 2.1 §9.6 Table 434) over real mutual TLS, on the real store
 * and token: when an item fails, every item before it is undone (objects it created are gone, objects it changed are
 * as before) and answered Operation Undone with its payload; when none fails the batch stands; an operation whose
 * effect the server could not take back (RNG Seed, a part of a multi-part operation) is refused in such a batch.
 */
import test from 'ava';
import { requestXml, valueOf } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection } = serverFixture(test);

const undoHeader = '<BatchErrorContinuationOption type="Enumeration" value="Undo"/>';
const item = (operation: string, payload: string, id?: string): string => `<BatchItem>
    <Operation type="Enumeration" value="${operation}"/>
    ${id === undefined ? '' : `<UniqueBatchItemID type="ByteString" value="${id}"/>`}
    <RequestPayload>${payload}</RequestPayload>
  </BatchItem>`;
const uidXml = (uid: string): string => `<UniqueIdentifier type="TextString" value="${uid}"/>`;
const registerSecret = (hex: string, name: string): string =>
  item(
    'Register',
    `<ObjectType type="Enumeration" value="SecretData"/>
     <Attributes><Name><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>
     <SecretData><SecretDataType type="Enumeration" value="Password"/><KeyBlock>
       <KeyFormatType type="Enumeration" value="Opaque"/><KeyValue><KeyMaterial type="ByteString" value="${hex}"/></KeyValue>
     </KeyBlock></SecretData>`,
  );
const createAes = item(
  'Create',
  `<ObjectType type="Enumeration" value="SymmetricKey"/>
   <Attributes>
     <CryptographicAlgorithm type="Enumeration" value="AES"/>
     <CryptographicLength type="Integer" value="128"/>
     <CryptographicUsageMask type="Integer" value="Encrypt Decrypt"/>
   </Attributes>`,
);
const missing = item('Get', uidXml('no-such-object'), 'ff');

/** Result Status (and Reason) of each batch item, in order. */
const outcomes = (xml: string): string[] =>
  [...xml.matchAll(/<BatchItem>([\s\S]*?)<\/BatchItem>/g)].map((m) => {
    const body = m[1] ?? '';
    const status = /<ResultStatus type="Enumeration" value="([^"]*)"/.exec(body)?.[1] ?? '?';
    const reason = /<ResultReason type="Enumeration" value="([^"]*)"/.exec(body)?.[1];
    return reason === undefined ? status : `${status}/${reason}`;
  });

const send = (items: string, header = undoHeader): Promise<string> =>
  connection().requestXml(requestXml('2.1', items, header));

async function newKey(): Promise<string> {
  const uid = valueOf(await send(createAes, ''), 'UniqueIdentifier');
  if (uid === undefined) throw new Error('Create gave no Unique Identifier');
  return uid;
}

const stateOf = async (uid: string): Promise<string | undefined> =>
  valueOf(
    await send(
      item('GetAttributes', `${uidXml(uid)}<AttributeReference type="Enumeration" value="State"/>`),
      '',
    ),
    'State',
  );

test.serial(
  'a failing item undoes the items before it: created objects gone, changed ones restored',
  async (t) => {
    const existing = await newKey();
    const xml = await send(
      item('Activate', uidXml(existing), '01') +
        item(
          'SetAttribute',
          `${uidXml(existing)}<NewAttribute><ContactInformation type="TextString" value="undo me"/></NewAttribute>`,
          '02',
        ) +
        registerSecret('0a0b0c0d', 'undo-registered') +
        missing,
    );
    t.deepEqual(
      outcomes(xml),
      ['OperationUndone', 'OperationUndone', 'OperationUndone', 'OperationFailed/ObjectNotFound'],
      xml,
    );
    // Undone items keep their payloads (the vectors BL-M-2-21 and AX-M-*) and their batch item ids.
    t.regex(
      xml,
      /<UniqueBatchItemID type="ByteString" value="01"\/>\s*<ResultStatus type="Enumeration" value="OperationUndone"\/>\s*<ResponsePayload>\s*<UniqueIdentifier/,
    );
    const registered = valueOf(xml, 'UniqueIdentifier', 2);
    t.truthy(registered);

    t.is(await stateOf(existing), 'PreActive', 'Activate undone');
    const contact = await send(
      item(
        'GetAttributes',
        `${uidXml(existing)}<AttributeReference type="Enumeration" value="ContactInformation"/>`,
      ),
      '',
    );
    t.notRegex(contact, /undo me/, 'SetAttribute undone');
    const gone = await send(item('Get', uidXml(registered ?? '')), '');
    t.deepEqual(outcomes(gone), ['OperationFailed/ObjectNotFound'], 'the registered object is gone');
    const located = await send(
      item(
        'Locate',
        '<Attributes><Name><NameValue type="TextString" value="undo-registered"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes>',
      ),
      '',
    );
    t.notRegex(
      located,
      /<UniqueIdentifier/,
      'and not found by Locate either (its index entries went with it)',
    );
  },
);

test.serial('an Undo batch without a failure stands', async (t) => {
  const key = await newKey();
  const xml = await send(item('Activate', uidXml(key)) + registerSecret('01020304', 'undo-kept'));
  t.deepEqual(outcomes(xml), ['Success', 'Success'], xml);
  t.is(await stateOf(key), 'Active');
  const registered = valueOf(xml, 'UniqueIdentifier', 1) ?? '';
  t.regex(await send(item('Get', uidXml(registered)), ''), /value="01020304"/);
});

test.serial('an object created and changed in the same batch is gone after the undo', async (t) => {
  const xml = await send(createAes + item('Activate', '') + missing);
  t.deepEqual(outcomes(xml), ['OperationUndone', 'OperationUndone', 'OperationFailed/ObjectNotFound'], xml);
  const uid = valueOf(xml, 'UniqueIdentifier') ?? '';
  t.deepEqual(outcomes(await send(item('Get', uidXml(uid)), '')), ['OperationFailed/ObjectNotFound']);
});

test.serial('Destroy is undone: the key and its material are back', async (t) => {
  const uid = valueOf(await send(registerSecret('aabbccdd', 'undo-destroyed'), ''), 'UniqueIdentifier') ?? '';
  const xml = await send(item('Destroy', uidXml(uid)) + missing);
  t.deepEqual(outcomes(xml), ['OperationUndone', 'OperationFailed/ObjectNotFound'], xml);
  t.regex(await send(item('Get', uidXml(uid)), ''), /value="aabbccdd"/);
});

test.serial(
  'what cannot be undone is refused in an Undo batch, and what came before is undone',
  async (t) => {
    const key = await newKey();
    const seed = await send(
      item('Activate', uidXml(key)) +
        item('RNGSeed', '<Data type="ByteString" value="00112233445566778899aabbccddeeff"/>'),
    );
    t.deepEqual(outcomes(seed), ['OperationUndone', 'OperationFailed/FeatureNotSupported'], seed);
    t.regex(seed, /RNG Seed cannot be undone/);
    t.is(await stateOf(key), 'PreActive');

    await send(item('Activate', uidXml(key)), '');
    const stream = await send(
      item(
        'Encrypt',
        `${uidXml(key)}<CryptographicParameters><BlockCipherMode type="Enumeration" value="ECB"/></CryptographicParameters>
       <Data type="ByteString" value="000102030405060708090a0b0c0d0e0f"/><InitIndicator type="Boolean" value="true"/>`,
      ) + item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>'),
    );
    t.deepEqual(outcomes(stream), ['OperationFailed/FeatureNotSupported'], stream);
    t.regex(stream, /multi-part Encrypt cannot be undone/);
    // The same Encrypt in one part is fine in an Undo batch: it changes nothing.
    const single = await send(
      item(
        'Encrypt',
        `${uidXml(key)}<CryptographicParameters><BlockCipherMode type="Enumeration" value="ECB"/></CryptographicParameters>
       <Data type="ByteString" value="000102030405060708090a0b0c0d0e0f"/>`,
      ) + item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>'),
    );
    t.deepEqual(outcomes(single), ['Success', 'Success'], single);
  },
);
