import { attributeKey, attributeName, readAttributeContainer, type Attribute } from '../kmip/attributes.js';
import type { Fields } from '../kmip/fields.js';
import { tag } from '../kmip/vocabulary.js';
import { certificateAttributeNames } from './certificate-attributes.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';

/**
 * The attributes a client supplies with Create, Create Key Pair, Register and the attribute operations, and the
 * rules on them (KMIP 1.4 §3 attribute rule tables: "Initially set by", "Modifiable by client", "Multiple instances
 * permitted").
 */

/** Attributes only the server sets (KMIP 1.4 §3: "Initially set by: Server"). */
const serverOnly = new Set(
  [
    'UniqueIdentifier',
    'ObjectType',
    'State',
    'InitialDate',
    'LastChangeDate',
    'DestroyDate',
    'CompromiseDate',
    'CompromiseOccurrenceDate',
    'RevocationReason',
    'ArchiveDate',
    'Digest',
    'LeaseTime',
    'OriginalCreationDate',
    'KeyValuePresent',
    'CertificateLength',
    'AlwaysSensitive',
    'NeverExtractable',
    'ProtectionStorageMask',
    ...certificateAttributeNames,
  ].flatMap((name) => {
    try {
      return [tag(name)];
    } catch {
      return [];
    }
  }),
);

/**
 * Server-set attributes a client may give when it registers an object made elsewhere (KMIP 1.4 §3.43: "The Original
 * Creation Date MAY be set by the client during a Register operation"); once set, never changed.
 */
const givenWhenRegistered = new Set([tag('OriginalCreationDate')]);

/** Attributes that may have several instances (KMIP 1.4 §3: "Multiple instances permitted: Yes"). */
const multiValued = new Set(
  [
    'Name',
    'ObjectGroup',
    'Link',
    'ApplicationSpecificInformation',
    'AlternativeName',
    'KeyValueLocation',
    'CryptographicParameters',
    'CryptographicDomainParameters',
    'Digest',
    'CertificateIdentifier',
    'X_509CertificateIdentifier',
  ].flatMap((name) => {
    try {
      return [tag(name)];
    } catch {
      return [];
    }
  }),
);

/**
 * Attributes a client may set at creation but never change afterwards (KMIP 1.4 §3: "Modifiable by client: No");
 * Fresh is set by the client only when it registers an object (2.1 §4.24: "unless the client provides a False value
 * in Register or Import").
 */
const fixedAfterCreation = new Set(
  [
    'CryptographicAlgorithm',
    'CryptographicLength',
    'CertificateType',
    'CryptographicDomainParameters',
    'Fresh',
  ].map((n) => tag(n)),
);

/** Whether a client may add, modify or delete the attribute on an existing object. */
export function isReadOnly(attribute: Attribute): boolean {
  return (
    isServerOnly(attribute) || (attribute.kind === 'standard' && fixedAfterCreation.has(attribute.value.tag))
  );
}

export function isServerOnly(attribute: Attribute): boolean {
  return attribute.kind === 'standard' && serverOnly.has(attribute.value.tag);
}

export function isMultiValued(attribute: Attribute): boolean {
  return attribute.kind === 'custom' || multiValued.has(attribute.value.tag);
}

/** Reads and checks the client's attributes from a container field (1.x Template-Attribute or 2.x Attributes). */
export function clientAttributes(
  container: Fields | undefined,
  ctx: RequestContext,
  options: { readonly registering?: boolean } = {},
): Attribute[] {
  if (!container) return [];
  const attributes = readAttributeContainer(container);
  const seen = new Set<string>();
  for (const attribute of attributes) {
    const name = attributeName(attribute, ctx.version) ?? attributeKey(attribute);
    const registered = options.registering === true && attribute.kind === 'standard';
    if (isServerOnly(attribute) && !(registered && givenWhenRegistered.has(attribute.value.tag))) {
      throw errors.invalidField(`${name} is set by the server and cannot be given by the client`);
    }
    const key = attributeKey(attribute);
    if (seen.has(key) && !isMultiValued(attribute)) {
      throw errors.invalidField(
        `${name} may have one instance only, but the request gives it more than once`,
      );
    }
    seen.add(key);
  }
  return attributes;
}

/** The request's attribute container, by its 1.x and 2.x names ("TemplateAttribute" / "Attributes"). */
export function attributeContainer(payload: Fields, name1x: string, name2x: string): Fields | undefined {
  return payload.version.startsWith('2.') ? payload.struct(name2x) : payload.struct(name1x);
}
