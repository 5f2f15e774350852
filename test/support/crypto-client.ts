/**
 * What the server tests share: one request vocabulary for KMIP 1.x (Template-Attribute with Attribute Name/Value)
 * and 2.x (Attributes with their own tags), the common attributes, registering known key bytes, Locate, and reading
 * the answer of a single batch item. Requests are KMIP XML, sent over real mutual TLS by TestKmipClient.
 */
import { requestXml, valueOf, type TestKmipClient } from './kmip-client.js';

export type Version = '1.0' | '1.1' | '1.2' | '1.3' | '1.4' | '2.0' | '2.1';
/** The versions every cryptographic test runs in: the last of each major version. */
export const versions: readonly Version[] = ['1.4', '2.1'];
/** Whether a version is KMIP 2.x (attributes under their own tags, 2.x result reasons). */
export const v2 = (version: Version): boolean => version.startsWith('2.');

/** One attribute, written once and spelled in either version's form. */
export interface AttributeSpec {
  /** The 2.x tag name, e.g. CryptographicUsageMask; the 1.x Attribute Name is it with spaces. */
  readonly tag: string;
  /** The value as XML attributes (`type="Integer" value="Encrypt"`) or as child elements of a Structure. */
  readonly scalar?: { readonly type: string; readonly value: string };
  readonly children?: string;
}

export const attr = (tag: string, type: string, value: string): AttributeSpec => ({
  tag,
  scalar: { type, value },
});
export const structAttr = (tag: string, children: string): AttributeSpec => ({ tag, children });

/** Common attributes. `$NOW-3600` is read as a Date-Time relative to the time the request is written. */
export const activeSinceAnHour = attr('ActivationDate', 'DateTime', '$NOW-3600');
export const usage = (mask: string): AttributeSpec => attr('CryptographicUsageMask', 'Integer', mask);
export const parametersAttr = (fields: string): AttributeSpec =>
  structAttr('CryptographicParameters', fields);
/** A Name attribute (uninterpreted text). */
export const nameAttr = (value: string): AttributeSpec =>
  structAttr(
    'Name',
    `<NameValue type="TextString" value="${value}"/>${enumXml('NameType', 'UninterpretedTextString')}`,
  );
/** A custom attribute x-NAME (1.x name "x-NAME"; 2.x vendor "x", name NAME). */
export function customAttr(version: Version, name: string, value: string): AttributeSpec {
  return v2(version)
    ? structAttr(
        'Attribute',
        `<VendorIdentification type="TextString" value="x"/><AttributeName type="TextString" value="${name}"/>` +
          `<AttributeValue type="TextString" value="${value}"/>`,
      )
    : { tag: `x-${name}`, scalar: { type: 'TextString', value } };
}
/** A Usage Limits attribute; Count is given only when a test wants to see the server ignore it. */
export function usageLimits(total: number, unit: 'Byte' | 'Object', count?: number): AttributeSpec {
  return structAttr(
    'UsageLimits',
    `<UsageLimitsTotal type="LongInteger" value="${total}"/>` +
      (count === undefined ? '' : `<UsageLimitsCount type="LongInteger" value="${count}"/>`) +
      enumXml('UsageLimitsUnit', unit),
  );
}

/** The 1.x Attribute Name of a 2.x tag name (KMIP 1.4 §3: the names are the tags' words with spaces). */
function attributeName(tag: string): string {
  return tag.replace(/([a-z])([A-Z])/g, '$1 $2');
}

/** An attribute container: TemplateAttribute (or the name given) in 1.x, Attributes (or the name given) in 2.x. */
export function attributesXml(
  version: Version,
  specs: readonly AttributeSpec[],
  names: { readonly v1: string; readonly v2: string } = { v1: 'TemplateAttribute', v2: 'Attributes' },
): string {
  const body = specs
    .map((spec) => {
      if (version.startsWith('2.')) {
        return spec.scalar
          ? `<${spec.tag} type="${spec.scalar.type}" value="${spec.scalar.value}"/>`
          : `<${spec.tag}>${spec.children ?? ''}</${spec.tag}>`;
      }
      const value = spec.scalar
        ? `<AttributeValue type="${spec.scalar.type}" value="${spec.scalar.value}"/>`
        : `<AttributeValue>${spec.children ?? ''}</AttributeValue>`;
      return `<Attribute><AttributeName type="TextString" value="${attributeName(spec.tag)}"/>${value}</Attribute>`;
    })
    .join('');
  const name = version.startsWith('2.') ? names.v2 : names.v1;
  return `<${name}>${body}</${name}>`;
}

export const uidXml = (uid: string): string => `<UniqueIdentifier type="TextString" value="${uid}"/>`;
export const bytesXml = (tag: string, bytes: Uint8Array): string =>
  `<${tag} type="ByteString" value="${Buffer.from(bytes).toString('hex')}"/>`;
export const enumXml = (tag: string, value: string): string =>
  `<${tag} type="Enumeration" value="${value}"/>`;
export const intXml = (tag: string, value: number): string => `<${tag} type="Integer" value="${value}"/>`;
export const boolXml = (tag: string, value: boolean): string =>
  `<${tag} type="Boolean" value="${String(value)}"/>`;
/** A Cryptographic Parameters request field. */
export const parametersXml = (fields: string): string =>
  `<CryptographicParameters>${fields}</CryptographicParameters>`;
/** Cryptographic Parameters for AES-ECB without padding, one block in, one block out. */
export const ecb = parametersXml(enumXml('BlockCipherMode', 'ECB') + enumXml('PaddingMethod', 'None'));
/** Cryptographic Parameters for PKCS#1 v1.5 signatures with SHA-256. */
export const pkcs1Sha256 = parametersXml(enumXml('DigitalSignatureAlgorithm', 'SHA_256WithRSAEncryption'));

/** The answer to one batch item. */
export class Answer {
  constructor(readonly xml: string) {}

  get status(): string | undefined {
    return valueOf(this.xml, 'ResultStatus');
  }

  get reason(): string | undefined {
    return valueOf(this.xml, 'ResultReason');
  }

  get message(): string | undefined {
    return valueOf(this.xml, 'ResultMessage');
  }

  /** `status/reason`, e.g. `OperationFailed/InvalidField` or `Success/-`: one value to compare in a test. */
  get outcome(): string {
    return `${this.status ?? '?'}/${this.reason ?? '-'}`;
  }

  value(element: string, nth = 0): string | undefined {
    return valueOf(this.xml, element, nth);
  }

  /** A Byte String field of the payload; throws (with the whole answer) when it is not there. */
  bytes(element: string): Buffer {
    const hex = valueOf(this.xml, element);
    if (hex === undefined) throw new Error(`no ${element} in the answer:\n${this.xml}`);
    return Buffer.from(hex, 'hex');
  }

  /** Whether the payload has this field at all. */
  has(element: string): boolean {
    return new RegExp(`<${element}[ >]`).test(this.xml);
  }
}

/** A client that speaks one KMIP version, one batch item per request. */
export class VersionedClient {
  constructor(
    readonly client: TestKmipClient,
    readonly version: Version,
  ) {}

  async call(operation: string, payload: string): Promise<Answer> {
    const item = `<BatchItem><Operation type="Enumeration" value="${operation}"/><RequestPayload>${payload}</RequestPayload></BatchItem>`;
    return new Answer(await this.client.requestXml(requestXml(this.version, item)));
  }

  /** Like call, but the operation must succeed (throws with the answer otherwise: a setup step, not a check). */
  async must(operation: string, payload: string): Promise<Answer> {
    const answer = await this.call(operation, payload);
    if (answer.status !== 'Success') {
      throw new Error(`${operation} at ${this.version} failed:\n${answer.xml}`);
    }
    return answer;
  }

  private async registered(payload: string): Promise<string> {
    const uid = (await this.must('Register', payload)).value('UniqueIdentifier');
    if (uid === undefined) throw new Error('Register answered no Unique Identifier');
    return uid;
  }

  /** Registers a symmetric key of known bytes (Raw); returns its UID. */
  registerSymmetric(
    key: Uint8Array,
    attributes: readonly AttributeSpec[],
    algorithm = 'AES',
    bits = key.length * 8,
  ): Promise<string> {
    return this.registered(`<ObjectType type="Enumeration" value="SymmetricKey"/>
      ${attributesXml(this.version, attributes)}
      <SymmetricKey><KeyBlock><KeyFormatType type="Enumeration" value="Raw"/>
        <KeyValue>${bytesXml('KeyMaterial', key)}</KeyValue>
        ${enumXml('CryptographicAlgorithm', algorithm)}${intXml('CryptographicLength', bits)}
      </KeyBlock></SymmetricKey>`);
  }

  /** Registers a private or public key of known DER bytes in the format named; returns its UID. */
  registerAsymmetric(
    objectType: 'PrivateKey' | 'PublicKey',
    format: 'PKCS_1' | 'PKCS_8' | 'X_509',
    der: Uint8Array,
    algorithm: string,
    bits: number,
    attributes: readonly AttributeSpec[],
  ): Promise<string> {
    return this.registered(`<ObjectType type="Enumeration" value="${objectType}"/>
      ${attributesXml(this.version, attributes)}
      <${objectType}><KeyBlock><KeyFormatType type="Enumeration" value="${format}"/>
        <KeyValue>${bytesXml('KeyMaterial', der)}</KeyValue>
        ${enumXml('CryptographicAlgorithm', algorithm)}${intXml('CryptographicLength', bits)}
      </KeyBlock></${objectType}>`);
  }

  /** Registers a Password Secret Data of known bytes (Opaque); returns its UID. */
  registerSecretData(secret: Uint8Array, attributes: readonly AttributeSpec[]): Promise<string> {
    return this.registered(`${enumXml('ObjectType', 'SecretData')}${attributesXml(this.version, attributes)}
      <SecretData>${enumXml('SecretDataType', 'Password')}<KeyBlock>${enumXml('KeyFormatType', 'Opaque')}
        <KeyValue>${bytesXml('KeyMaterial', secret)}</KeyValue></KeyBlock></SecretData>`);
  }

  activate(uid: string): Promise<Answer> {
    return this.must('Activate', uidXml(uid));
  }

  revoke(uid: string, code: 'Unspecified' | 'KeyCompromise' | 'CessationOfOperation'): Promise<Answer> {
    return this.must(
      'Revoke',
      `${uidXml(uid)}<RevocationReason>${enumXml('RevocationReasonCode', code)}</RevocationReason>`,
    );
  }

  /** The Key Material bytes of Get, in the format asked for (or as stored). */
  async keyMaterial(uid: string, format?: string): Promise<Buffer> {
    const formatXml = format === undefined ? '' : enumXml('KeyFormatType', format);
    return (await this.must('Get', `${uidXml(uid)}${formatXml}`)).bytes('KeyMaterial');
  }
}

/** Locate's Unique Identifiers, in the order answered, and Located Items (answered when the request has Offset Items). */
export async function located(
  kmip: VersionedClient,
  attributes: readonly AttributeSpec[],
  options: { mask?: string | number; max?: number; offset?: number } = {},
): Promise<{ uids: string[]; count: string | undefined }> {
  const container = attributesXml(kmip.version, attributes, { v1: 'Unwrapped', v2: 'Attributes' }).replace(
    /<\/?Unwrapped>/g,
    '',
  );
  const mask =
    options.mask === undefined ? '' : `<StorageStatusMask type="Integer" value="${String(options.mask)}"/>`;
  const max = options.max === undefined ? '' : `<MaximumItems type="Integer" value="${options.max}"/>`;
  const offset =
    options.offset === undefined ? '' : `<OffsetItems type="Integer" value="${options.offset}"/>`;
  const answer = await kmip.must('Locate', `${max}${offset}${mask}${container}`);
  const uids: string[] = [];
  for (let i = 0; answer.value('UniqueIdentifier', i) !== undefined; i++)
    uids.push(answer.value('UniqueIdentifier', i) ?? '');
  return { uids, count: answer.value('LocatedItems') };
}

/**
 * Locate by the given attributes, with a Storage Status Mask (names, or the number) and Maximum Items and Offset
 * Items when given: the Unique Identifiers in the order answered.
 */
export async function locate(
  kmip: VersionedClient,
  attributes: readonly AttributeSpec[],
  options: { mask?: string | number; max?: number; offset?: number } = {},
): Promise<string[]> {
  return (await located(kmip, attributes, options)).uids;
}
