/**
 * Interop (KMIP 2.0 §6.1.25, 2.1 §6.1.26) against a real appliance: Begin and End are acknowledged with an empty
 * payload, Reset is refused rather than pretended, the fields are required, 1.x has no such operation, and Query
 * lists it only for 2.x.
 */
import test from 'ava';
import { requestXml, valueOf } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection } = serverFixture(test);

const item = (operation: string, payload: string): string => `<BatchItem>
    <Operation type="Enumeration" value="${operation}"/>
    <RequestPayload>${payload}</RequestPayload>
  </BatchItem>`;

const interop = (fn: string, identifier = 'BL-M-2-21'): string =>
  item(
    'Interop',
    `<InteropFunction type="Enumeration" value="${fn}"/><InteropIdentifier type="TextString" value="${identifier}"/>`,
  );

for (const version of ['2.0', '2.1']) {
  test.serial(`KMIP ${version}: Interop Begin and End succeed with an empty Response Payload`, async (t) => {
    for (const fn of ['Begin', 'End']) {
      const xml = await connection().requestXml(requestXml(version, interop(fn)));
      t.is(valueOf(xml, 'ResultStatus'), 'Success', xml);
      t.is(valueOf(xml, 'Operation'), 'Interop');
      // The payload is there and empty (Table 224), as the BL-M-*-21 vectors expect.
      t.regex(xml, /<ResponsePayload\/>|<ResponsePayload>\s*<\/ResponsePayload>/, xml);
    }
  });
}

test.serial('Interop Begin and End wrap other operations in one batch', async (t) => {
  const xml = await connection().requestXml(
    requestXml(
      '2.1',
      interop('Begin', 'TC-X') +
        item('Query', '<QueryFunction type="Enumeration" value="QueryServerInformation"/>') +
        interop('End', 'TC-X'),
    ),
  );
  t.deepEqual(
    [0, 1, 2].map((i) => valueOf(xml, 'ResultStatus', i)),
    ['Success', 'Success', 'Success'],
  );
});

test.serial(
  'Interop Reset is refused as Feature Not Supported: this server does not discard its objects',
  async (t) => {
    const xml = await connection().requestXml(requestXml('2.1', interop('Reset')));
    t.is(valueOf(xml, 'ResultStatus'), 'OperationFailed');
    t.is(valueOf(xml, 'ResultReason'), 'FeatureNotSupported');
    t.regex(valueOf(xml, 'ResultMessage') ?? '', /Reset/);
  },
);

test.serial('Interop without its Interop Identifier or Interop Function is Invalid Field', async (t) => {
  for (const payload of [
    '<InteropFunction type="Enumeration" value="Begin"/>',
    '<InteropIdentifier type="TextString" value="BL-M-2-21"/>',
  ]) {
    const xml = await connection().requestXml(requestXml('2.1', item('Interop', payload)));
    t.is(valueOf(xml, 'ResultStatus'), 'OperationFailed', payload);
    t.is(valueOf(xml, 'ResultReason'), 'InvalidField', payload);
  }
});

test.serial('Query lists Interop for KMIP 2.0 and 2.1, never for 1.x', async (t) => {
  const query = item('Query', '<QueryFunction type="Enumeration" value="QueryOperations"/>');
  for (const version of ['2.0', '2.1']) {
    const xml = await connection().requestXml(requestXml(version, query));
    t.regex(xml, /<Operation type="Enumeration" value="Interop"\/>/, version);
  }
  for (const version of ['1.0', '1.4']) {
    const xml = await connection().requestXml(requestXml(version, query));
    t.regex(xml, /<Operation type="Enumeration" value="Locate"\/>/, version);
    t.notRegex(xml, /Interop/, version);
  }
});

test.serial('a KMIP 1.4 request naming the Interop operation (0x34) is refused', async (t) => {
  // 1.4 has no Interop: the operation number is written as hex because 1.4 gives it no name.
  const xml = await connection().requestXml(
    requestXml(
      '1.4',
      `<BatchItem><Operation type="Enumeration" value="0x00000034"/><RequestPayload/></BatchItem>`,
    ),
  );
  t.is(valueOf(xml, 'ResultStatus'), 'OperationFailed', xml);
  t.regex(valueOf(xml, 'ResultReason') ?? '', /OperationNotSupported|InvalidMessage/, xml);
});
