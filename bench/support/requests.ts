/**
 * The benchmark's requests, written as KMIP 1.4 XML (readable, like the tests') and encoded to TTLV once, before
 * anything is measured. KMIP 1.4 with Template-Attribute forms is what Barbican's plugin (PyKMIP) and most 1.x
 * clients send.
 */
import { encodeTtlv } from '../../src/ttlv/encode.js';
import { readXmlMessages } from '../../src/kmip/text-messages.js';

const version = { major: 1, minor: 4 };

/** One request message around batch items. */
export function requestXml(items: readonly string[]): string {
  return `<RequestMessage>
  <RequestHeader>
    <ProtocolVersion>
      <ProtocolVersionMajor type="Integer" value="${version.major}"/>
      <ProtocolVersionMinor type="Integer" value="${version.minor}"/>
    </ProtocolVersion>
    <BatchCount type="Integer" value="${items.length}"/>
  </RequestHeader>
  ${items.join('\n')}
</RequestMessage>`;
}

export function batchItem(operation: string, payload: string): string {
  return `<BatchItem>
    <Operation type="Enumeration" value="${operation}"/>
    <RequestPayload>${payload}</RequestPayload>
  </BatchItem>`;
}

const attribute = (name: string, value: string): string =>
  `<Attribute><AttributeName type="TextString" value="${name}"/>${value}</Attribute>`;

const nameAttribute = (name: string): string =>
  attribute(
    'Name',
    `<AttributeValue><NameValue type="TextString" value="${name}"/><NameType type="Enumeration" value="UninterpretedTextString"/></AttributeValue>`,
  );

/** Create AES-256 as Barbican asks for it: algorithm, length, usage mask; a Name only when given. */
export function createAesPayload(name?: string): string {
  return `<ObjectType type="Enumeration" value="SymmetricKey"/>
  <TemplateAttribute>
    ${attribute('Cryptographic Algorithm', '<AttributeValue type="Enumeration" value="AES"/>')}
    ${attribute('Cryptographic Length', '<AttributeValue type="Integer" value="256"/>')}
    ${attribute('Cryptographic Usage Mask', '<AttributeValue type="Integer" value="Encrypt Decrypt"/>')}
    ${name === undefined ? '' : nameAttribute(name)}
  </TemplateAttribute>`;
}

export function getPayload(uid: string): string {
  return `<UniqueIdentifier type="TextString" value="${uid}"/>`;
}

export function locateByNamePayload(name: string): string {
  return nameAttribute(name);
}

/** Register a small password as Secret Data (Opaque key format, KMIP 1.4 §2.2.7). */
export function registerSecretPayload(password: string): string {
  return `<ObjectType type="Enumeration" value="SecretData"/>
  <TemplateAttribute>
    ${attribute('Cryptographic Usage Mask', '<AttributeValue type="Integer" value="Verify"/>')}
  </TemplateAttribute>
  <SecretData>
    <SecretDataType type="Enumeration" value="Password"/>
    <KeyBlock>
      <KeyFormatType type="Enumeration" value="Opaque"/>
      <KeyValue><KeyMaterial type="ByteString" value="${Buffer.from(password).toString('hex')}"/></KeyValue>
    </KeyBlock>
  </SecretData>`;
}

export function activatePayload(uid: string): string {
  return `<UniqueIdentifier type="TextString" value="${uid}"/>`;
}

/**
 * Encrypt (KMIP 1.4 §4.29) of `data` with AES-GCM under the key `uid`: IV Length 96 bits and Tag Length 16 bytes in
 * the Cryptographic Parameters, and the IV in the request. A fixed IV reused under one key breaks GCM's security
 * (SP 800-38D §8): acceptable only here, where the same pre-encoded request is sent over and over to measure cost.
 */
export function encryptGcmPayload(uid: string, data: Uint8Array, iv: Uint8Array): string {
  return `<UniqueIdentifier type="TextString" value="${uid}"/>
  <CryptographicParameters>
    <BlockCipherMode type="Enumeration" value="GCM"/>
    <CryptographicAlgorithm type="Enumeration" value="AES"/>
    <IVLength type="Integer" value="${iv.length * 8}"/>
    <TagLength type="Integer" value="16"/>
  </CryptographicParameters>
  <Data type="ByteString" value="${Buffer.from(data).toString('hex')}"/>
  <IVCounterNonce type="ByteString" value="${Buffer.from(iv).toString('hex')}"/>`;
}

export function createRsaKeyPairPayload(bits: number): string {
  return `<CommonTemplateAttribute>
    ${attribute('Cryptographic Algorithm', '<AttributeValue type="Enumeration" value="RSA"/>')}
    ${attribute('Cryptographic Length', `<AttributeValue type="Integer" value="${bits}"/>`)}
  </CommonTemplateAttribute>
  <PrivateKeyTemplateAttribute>
    ${attribute('Cryptographic Usage Mask', '<AttributeValue type="Integer" value="Sign"/>')}
  </PrivateKeyTemplateAttribute>
  <PublicKeyTemplateAttribute>
    ${attribute('Cryptographic Usage Mask', '<AttributeValue type="Integer" value="Verify"/>')}
  </PublicKeyTemplateAttribute>`;
}

/** XML -> TTLV bytes, once. */
export function encodeRequest(xml: string): Uint8Array {
  const [message] = readXmlMessages(xml).messages;
  if (!message?.item) throw new Error(`bench request does not parse: ${message?.error?.message ?? 'empty'}`);
  return encodeTtlv(message.item);
}

/** The Unique Identifiers of an answer written as KMIP XML (messageToXml), in order. */
export const uidsOf = (xml: string): string[] =>
  [...xml.matchAll(/<UniqueIdentifier type="TextString" value="([^"]*)"\/>/g)].map((m) => m[1] ?? '');
