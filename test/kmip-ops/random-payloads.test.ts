/**
 * Every operation, at KMIP 1.4 and 2.1, given request payloads drawn at random from the vocabulary the operations
 * read (known tags with values of their types, structures nested three deep, Unique Identifiers of objects that
 * exist), answers with a KMIP error or a success, never an internal error: no exception escapes an operation as
 * anything but a KmipError (the dispatcher logs those others as "operation failed" and answers General Failure).
 * The dispatcher runs over a FakeHsm and a store in memory, seeded with a key, a key pair, a password and a 1.x
 * Template, so that random requests reach past "no such object". The seed is fixed: a failure names its case.
 */
import test from 'ava';
import fc from 'fast-check';
import { FakeHsm } from '../../src/hsm/fake-hsm.js';
import { principal } from '../../src/kmip-ops/access.js';
import { Dispatcher } from '../../src/kmip-ops/dispatch.js';
import { KeyService } from '../../src/kmip-ops/keys.js';
import { allOperations } from '../../src/kmip-ops/operations.js';
import { registryFor, type KmipVersion } from '../../src/kmip/registry.js';
import { messageToXml, readXmlMessages } from '../../src/kmip/text-messages.js';
import { tag } from '../../src/kmip/vocabulary.js';
import { openMemoryStore } from '../../src/store/level-store.js';
import { ItemType, ttlv, type TtlvItem } from '../../src/ttlv/types.js';

const RUNS_PER_OPERATION = 100;

/** Tags the operations read in their payloads (beyond these, the tag check refuses a message before any operation). */
const vocabulary = [
  'UniqueIdentifier',
  'ObjectType',
  'Attributes',
  'Attribute',
  'TemplateAttribute',
  'CommonTemplateAttribute',
  'PrivateKeyTemplateAttribute',
  'CommonAttributes',
  'Name',
  'NameValue',
  'NameType',
  'AttributeName',
  'AttributeValue',
  'AttributeReference',
  'KeyBlock',
  'KeyValue',
  'KeyMaterial',
  'KeyFormatType',
  'CryptographicAlgorithm',
  'CryptographicLength',
  'CryptographicUsageMask',
  'CryptographicParameters',
  'BlockCipherMode',
  'PaddingMethod',
  'HashingAlgorithm',
  'Data',
  'IVCounterNonce',
  'CorrelationValue',
  'InitIndicator',
  'FinalIndicator',
  'Rights',
  'Right',
  'Operations',
  'Objects',
  'Operation',
  'Ticket',
  'TicketType',
  'TicketValue',
  'LeaseTime',
  'RequestCount',
  'UsageLimits',
  'SymmetricKey',
  'PrivateKey',
  'PublicKey',
  'SecretData',
  'SecretDataType',
  'Certificate',
  'CertificateType',
  'CertificateValue',
  'Template',
  'Link',
  'LinkType',
  'LinkedObjectIdentifier',
  'KeyWrappingSpecification',
  'WrappingMethod',
  'EncryptionKeyInformation',
  'EncodingOption',
  'MaximumItems',
  'OffsetItems',
  'StorageStatusMask',
  'QueryFunction',
  'RevocationReason',
  'RevocationReasonCode',
  'ActivationDate',
  'State',
  'ObjectGroup',
  'DerivationMethod',
  'DerivationParameters',
  'DerivationData',
  'SplitKeyParts',
  'SplitKeyThreshold',
  'SplitKeyMethod',
  'PKCS_12FriendlyName',
  'Offset',
  'NewAttribute',
  'CurrentAttribute',
  'AttributeIndex',
  'ReplaceExisting',
  'KeyWrapType',
  'SignatureData',
  'MACData',
  'DigitalSignatureAlgorithm',
  'InteropFunction',
  'InteropIdentifier',
  'LogMessage',
  'CertificateRequestType',
  'CertificateRequestValue',
  'ProtectionStorageMasks',
  'ProtectionStorageMask',
  'VendorIdentification',
].flatMap((name) => {
  try {
    return [tag(name)];
  } catch {
    return [];
  }
});

function leaf(t: number, type: ItemType | undefined, uids: readonly string[]): fc.Arbitrary<TtlvItem> {
  const identifier = t === tag('UniqueIdentifier') || t === tag('LinkedObjectIdentifier');
  switch (type) {
    case ItemType.Integer:
      return fc.integer({ min: -5, max: 5000 }).map((v) => ttlv.integer(t, v));
    case ItemType.LongInteger:
      return fc.bigInt({ min: -5n, max: 1n << 40n }).map((v) => ttlv.longInteger(t, v));
    case ItemType.BigInteger:
      return fc.bigInt({ min: 0n, max: 1n << 128n }).map((v) => ttlv.bigInteger(t, v));
    case ItemType.Enumeration:
      return fc.integer({ min: 0, max: 0x30 }).map((v) => ttlv.enumeration(t, v));
    case ItemType.Boolean:
      return fc.boolean().map((v) => ttlv.boolean(t, v));
    case ItemType.TextString:
      return (
        identifier
          ? fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...uids) },
              { weight: 1, arbitrary: fc.string() },
            )
          : fc.oneof(
              fc.string({ maxLength: 12 }),
              fc.constantFrom('x-a', 'Name', 'Cryptographic Length', 'alias'),
            )
      ).map((v) => ttlv.textString(t, v));
    case ItemType.ByteString:
      return fc.uint8Array({ maxLength: 64 }).map((v) => ttlv.byteString(t, v));
    case ItemType.DateTime:
      return fc.bigInt({ min: 0n, max: 4_000_000_000n }).map((v) => ttlv.dateTime(t, v));
    case ItemType.Interval:
      return fc.integer({ min: 0, max: 100_000 }).map((v) => ttlv.interval(t, v));
    case ItemType.Structure:
    case ItemType.DateTimeExtended:
    case undefined:
      // Tags whose encoding varies (Key Material, Attribute Value): a Byte String or a Text String.
      return fc.oneof(
        fc.uint8Array({ maxLength: 32 }).map((v) => ttlv.byteString(t, v)),
        fc.string({ maxLength: 8 }).map((v) => ttlv.textString(t, v)),
      );
  }
}

function payloadItem(version: KmipVersion, uids: readonly string[], depth: number): fc.Arbitrary<TtlvItem> {
  const registry = registryFor(version);
  const known = vocabulary.filter((t) => registry.tag(t) !== undefined);
  const structures = known.filter((t) => registry.tag(t)?.type === ItemType.Structure);
  const leaves = known.filter((t) => registry.tag(t)?.type !== ItemType.Structure);
  const oneLeaf = fc.constantFrom(...leaves).chain((t) => leaf(t, registry.tag(t)?.type, uids));
  if (depth === 0) return oneLeaf;
  return fc.oneof(
    { weight: 3, arbitrary: oneLeaf },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom(...structures),
          fc.array(payloadItem(version, uids, depth - 1), { maxLength: 5 }),
        )
        .map(([t, children]) => ttlv.structure(t, children)),
    },
  );
}

function request(version: KmipVersion, operation: number, payload: TtlvItem[]): TtlvItem {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return ttlv.structure(tag('RequestMessage'), [
    ttlv.structure(tag('RequestHeader'), [
      ttlv.structure(tag('ProtocolVersion'), [
        ttlv.integer(tag('ProtocolVersionMajor'), major),
        ttlv.integer(tag('ProtocolVersionMinor'), minor),
      ]),
      ttlv.integer(tag('BatchCount'), 1),
    ]),
    ttlv.structure(tag('BatchItem'), [
      ttlv.enumeration(tag('Operation'), operation),
      ttlv.structure(tag('RequestPayload'), payload),
    ]),
  ]);
}

const header = (version: string): string =>
  `<RequestHeader><ProtocolVersion><ProtocolVersionMajor type="Integer" value="${version[0] ?? ''}"/><ProtocolVersionMinor type="Integer" value="${version[2] ?? ''}"/></ProtocolVersion><BatchCount type="Integer" value="1"/></RequestHeader>`;
const seedRequests = [
  `<RequestMessage>${header('2.1')}<BatchItem><Operation type="Enumeration" value="Create"/><RequestPayload><ObjectType type="Enumeration" value="SymmetricKey"/><Attributes><CryptographicAlgorithm type="Enumeration" value="AES"/><CryptographicLength type="Integer" value="256"/><CryptographicUsageMask type="Integer" value="Encrypt Decrypt WrapKey UnwrapKey MACGenerate"/><ActivationDate type="DateTime" value="$NOW-3600"/><Name><NameValue type="TextString" value="alias"/><NameType type="Enumeration" value="UninterpretedTextString"/></Name></Attributes></RequestPayload></BatchItem></RequestMessage>`,
  `<RequestMessage>${header('2.1')}<BatchItem><Operation type="Enumeration" value="CreateKeyPair"/><RequestPayload><CommonAttributes><CryptographicAlgorithm type="Enumeration" value="RSA"/><CryptographicLength type="Integer" value="1024"/><ActivationDate type="DateTime" value="$NOW-3600"/></CommonAttributes></RequestPayload></BatchItem></RequestMessage>`,
  `<RequestMessage>${header('2.1')}<BatchItem><Operation type="Enumeration" value="Register"/><RequestPayload><ObjectType type="Enumeration" value="SecretData"/><Attributes><ActivationDate type="DateTime" value="$NOW-3600"/></Attributes><SecretData><SecretDataType type="Enumeration" value="Password"/><KeyBlock><KeyFormatType type="Enumeration" value="Opaque"/><KeyValue><KeyMaterial type="ByteString" value="70617373"/></KeyValue></KeyBlock></SecretData></RequestPayload></BatchItem></RequestMessage>`,
  `<RequestMessage>${header('1.4')}<BatchItem><Operation type="Enumeration" value="Register"/><RequestPayload><ObjectType type="Enumeration" value="Template"/><TemplateAttribute><Attribute><AttributeName type="TextString" value="Name"/><AttributeValue><NameValue type="TextString" value="alias"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue></Attribute></TemplateAttribute><Template><Attribute><AttributeName type="TextString" value="Cryptographic Length"/><AttributeValue type="Integer" value="128"/></Attribute></Template></RequestPayload></BatchItem></RequestMessage>`,
];

test('random payloads get a KMIP answer from every operation, never an internal error', async (t) => {
  const store = await openMemoryStore();
  t.teardown(() => store.close());
  const internal: string[] = [];
  const log = {
    info: (): void => undefined,
    warn: (): void => undefined,
    error: (message: string, fields?: Record<string, unknown>): void => {
      internal.push(`${message}: ${JSON.stringify(fields)}`);
    },
  };
  const handlers = allOperations();
  const dispatcher = new Dispatcher({
    handlers,
    services: { store, keys: new KeyService(new FakeHsm(), store), log, now: () => new Date() },
  });
  const admin = principal('fuzzer', ['admin']);
  const uids: string[] = [];
  for (const xml of seedRequests) {
    const [message] = readXmlMessages(xml, { now: BigInt(Math.floor(Date.now() / 1000)) }).messages;
    if (message?.item === undefined) throw new Error('a seed request does not read');
    const answer = messageToXml(await dispatcher.handle(message.item, admin));
    for (const m of answer.matchAll(/UniqueIdentifier type="TextString" value="([^"]+)"/g))
      uids.push(m[1] ?? '');
  }
  t.is(uids.length, 5, 'a key, a key pair, a password and a template to aim at');

  let dispatched = 0;
  for (const version of ['1.4', '2.1'] as const) {
    for (const handler of handlers) {
      const operation = registryFor(version).enumValue(tag('Operation'), handler.operation);
      if (operation === undefined) continue;
      await fc.assert(
        fc.asyncProperty(fc.array(payloadItem(version, uids, 3), { maxLength: 6 }), async (payload) => {
          dispatched += 1;
          const before = internal.length;
          await dispatcher.handle(request(version, operation, payload), admin);
          return internal.length === before;
        }),
        { numRuns: RUNS_PER_OPERATION, seed: 20261124 },
      );
    }
  }
  t.log(`${dispatched} random requests, ${internal.length} internal errors`);
  t.deepEqual(internal, []);
});
