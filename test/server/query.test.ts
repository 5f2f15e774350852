/**
 * Query (KMIP 1.4 §4.25, 2.1 §6.1.40) against a real appliance: RNG Parameters describe the embedded token's
 * generator, Capability Information says what this server does, each only with the fields the request's version
 * defines, and the functions this server has nothing to claim for (profiles, validations, client registration
 * methods, attestation types) answer with nothing.
 */
import test from 'ava';
import { ItemType } from '../../src/ttlv/types.js';
import { checkTagsExist } from '../../src/kmip/fields.js';
import { enumValue, tag } from '../../src/kmip/vocabulary.js';
import { capabilityInformation } from '../../src/kmip-ops/ops/query.js';
import { rngParameters } from '../../src/kmip-ops/server-attributes.js';
import { requestXml, valueOf } from '../support/kmip-client.js';
import { serverFixture } from '../support/server-fixture.js';

const { connection } = serverFixture(test);

const query = (...functions: string[]): string => `<BatchItem>
    <Operation type="Enumeration" value="Query"/>
    <RequestPayload>${functions.map((f) => `<QueryFunction type="Enumeration" value="${f}"/>`).join('')}</RequestPayload>
  </BatchItem>`;

/** The child elements of the Response Payload, as (name, value) pairs in order, nested structures flattened. */
function payloadElements(xml: string): string[] {
  const body = /<ResponsePayload>([\s\S]*)<\/ResponsePayload>/.exec(xml)?.[1] ?? '';
  return [...body.matchAll(/<(\/?)([A-Za-z0-9_]+)(?: type="[A-Za-z]+" value="([^"]*)")?\/?>/g)].map(
    ([, close, name, value]) => `${close ?? ''}${name ?? ''}${value === undefined ? '' : `=${value}`}`,
  );
}

test.serial('KMIP 1.4 Query RNGs: the embedded token draws from a CTR_DRBG over AES-256', async (t) => {
  const xml = await connection().requestXml(requestXml('1.4', query('QueryRNGs')));
  t.is(valueOf(xml, 'ResultStatus'), 'Success', xml);
  t.deepEqual(payloadElements(xml), [
    'RNGParameters',
    'RNGAlgorithm=DRBG',
    'CryptographicAlgorithm=AES',
    'CryptographicLength=256',
    '/RNGParameters',
  ]);
});

test.serial(
  'KMIP 1.4 Query Capabilities: what this server does, Batch Undo and Continue included',
  async (t) => {
    const xml = await connection().requestXml(requestXml('1.4', query('QueryCapabilities')));
    t.deepEqual(payloadElements(xml), [
      'CapabilityInformation',
      'StreamingCapability=true',
      'AsynchronousCapability=false',
      'AttestationCapability=false',
      'BatchUndoCapability=true',
      'BatchContinueCapability=true',
      'UnwrapMode=Unspecified',
      'DestroyAction=KeyMaterialDeleted',
      'ShreddingAlgorithm=Unsupported',
      'RNGMode=SharedInstantiation',
      '/CapabilityInformation',
    ]);
  },
);

test.serial('Capability Information carries only the fields of the request version', async (t) => {
  const v13 = payloadElements(await connection().requestXml(requestXml('1.3', query('QueryCapabilities'))));
  t.false(
    v13.some((e) => e.startsWith('Batch')),
    '1.3 has no Batch Undo / Continue Capability',
  );
  t.false(v13.some((e) => e.startsWith('QuantumSafe')));
  t.true(v13.includes('DestroyAction=KeyMaterialDeleted'));
  const v21 = payloadElements(await connection().requestXml(requestXml('2.1', query('QueryCapabilities'))));
  t.true(v21.includes('BatchContinueCapability=true'));
  t.true(v21.includes('QuantumSafeCapability=false'), '2.0+ adds Quantum Safe Capability');
});

test.serial(
  'profiles, validations, client registration methods and attestation types: nothing is claimed',
  async (t) => {
    for (const version of ['1.4', '2.0', '2.1']) {
      const xml = await connection().requestXml(
        requestXml(
          version,
          query(
            'QueryProfiles',
            'QueryValidations',
            'QueryClientRegistrationMethods',
            'QueryAttestationTypes',
          ),
        ),
      );
      t.is(valueOf(xml, 'ResultStatus'), 'Success', version);
      t.deepEqual(payloadElements(xml), [], version);
    }
  },
);

test.serial('every Query function together, in each version: every tag exists in that version', async (t) => {
  const all = [
    'QueryOperations',
    'QueryObjects',
    'QueryServerInformation',
    'QueryRNGs',
    'QueryCapabilities',
    'QueryProfiles',
    'QueryValidations',
  ];
  for (const version of ['1.3', '1.4', '2.0', '2.1'] as const) {
    const response = await connection().request(requestXml(version, query(...all)));
    t.notThrows(() => {
      checkTagsExist(response, version);
    }, version);
  }
  // KMIP 1.2 has no Query RNGs (0x08) or Query Capabilities (0x0B): a 1.2 request naming them by number gets
  // neither structure, whose tags 1.2 lacks.
  const old = await connection().request(
    requestXml(
      '1.2',
      query('QueryServerInformation').replace(
        '</RequestPayload>',
        '<QueryFunction type="Enumeration" value="0x00000008"/><QueryFunction type="Enumeration" value="0x0000000b"/></RequestPayload>',
      ),
    ),
  );
  t.notThrows(() => {
    checkTagsExist(old, '1.2');
  });
});

test('RNG Parameters say Unspecified when the token is not known (KMIP 1.4 §4.25)', (t) => {
  const item = rngParameters(tag('RNGParameters'), undefined);
  t.is(item.tag, tag('RNGParameters'));
  t.deepEqual(item.type === ItemType.Structure ? item.value : undefined, [
    { tag: tag('RNGAlgorithm'), type: ItemType.Enumeration, value: enumValue('RNGAlgorithm', 'Unspecified') },
  ]);
  const capabilities = capabilityInformation('1.4', undefined);
  const mode =
    capabilities.type === ItemType.Structure
      ? capabilities.value.find((c) => c.tag === tag('RNGMode'))
      : undefined;
  t.deepEqual(mode, {
    tag: tag('RNGMode'),
    type: ItemType.Enumeration,
    value: enumValue('RNGMode', 'Unspecified'),
  });
});
