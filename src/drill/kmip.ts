/**
 * The one KMIP request a drill sends, and the reading of its answer. Query is in every KMIP version and needs no
 * object, so any server that lets the client in can answer it (KMIP 1.2 §4.25); 1.2 because it is the version
 * most servers in the field speak, and the Credential it carries is the same from 1.0 to 1.4 (§2.1.2).
 */
import { enumName, enumValue, tag } from '../kmip/vocabulary.js';
import { versionOfMessage } from '../kmip/text-messages.js';
import type { KmipVersion } from '../kmip/registry.js';
import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';

export const REQUEST_VERSION = { major: 1, minor: 2 } as const;
const REQUEST_KMIP_VERSION: KmipVersion = '1.2';

/** A Username and Password Credential (KMIP 1.4 §2.1.2 Table 4); the password is optional there. */
export interface UsernamePassword {
  readonly username: string;
  readonly password?: string;
}

/** Query (Query Operations) in KMIP 1.2, with an Authentication header when `credential` is given. */
export function queryRequest(credential?: UsernamePassword): Uint8Array {
  const header: TtlvItem[] = [
    ttlv.structure(tag('ProtocolVersion'), [
      ttlv.integer(tag('ProtocolVersionMajor'), REQUEST_VERSION.major),
      ttlv.integer(tag('ProtocolVersionMinor'), REQUEST_VERSION.minor),
    ]),
  ];
  if (credential) {
    const value: TtlvItem[] = [ttlv.textString(tag('Username'), credential.username)];
    if (credential.password !== undefined) value.push(ttlv.textString(tag('Password'), credential.password));
    // KMIP 1.2 §7.2 Table 245: Authentication comes after Protocol Version and before Batch Count.
    header.push(
      ttlv.structure(tag('Authentication'), [
        ttlv.structure(tag('Credential'), [
          ttlv.enumeration(tag('CredentialType'), enumValue('CredentialType', 'UsernameAndPassword')),
          ttlv.structure(tag('CredentialValue'), value),
        ]),
      ]),
    );
  }
  header.push(ttlv.integer(tag('BatchCount'), 1));
  return encodeTtlv(
    ttlv.structure(tag('RequestMessage'), [
      ttlv.structure(tag('RequestHeader'), header),
      ttlv.structure(tag('BatchItem'), [
        ttlv.enumeration(tag('Operation'), enumValue('Operation', 'Query')),
        ttlv.structure(tag('RequestPayload'), [
          ttlv.enumeration(tag('QueryFunction'), enumValue('QueryFunction', 'QueryOperations')),
        ]),
      ]),
    ]),
  );
}

/** The first batch item's result, with enumeration values named as the response's own version names them. */
export interface QueryAnswer {
  readonly status: string;
  readonly success: boolean;
  readonly reason: string | undefined;
  readonly message: string | undefined;
  /** How many Operation entries the payload lists (0 when it has no payload). */
  readonly operations: number;
}

function child(item: TtlvItem | undefined, name: string): TtlvItem | undefined {
  return item?.type === ItemType.Structure ? item.value.find((c) => c.tag === tag(name)) : undefined;
}

/** Reads the answer to queryRequest; throws an Error that says what is missing or wrong. */
export function readQueryAnswer(bytes: Uint8Array): QueryAnswer {
  const message = decodeTtlv(bytes);
  if (message.tag !== tag('ResponseMessage') || message.type !== ItemType.Structure) {
    throw new Error('the answer is not a Response Message');
  }
  // A server may answer in a version other than the request's (KMIP 1.4 §4.26 lets it answer in its own);
  // enumeration names are looked up in the version it declares.
  const version = versionOfMessage(message) ?? REQUEST_KMIP_VERSION;
  const item = child(message, 'BatchItem');
  if (!item) throw new Error('the Response Message has no Batch Item');
  const status = child(item, 'ResultStatus');
  if (status?.type !== ItemType.Enumeration) throw new Error('the Batch Item has no Result Status');
  const reason = child(item, 'ResultReason');
  const text = child(item, 'ResultMessage');
  const payload = child(item, 'ResponsePayload');
  return {
    status: enumName(version, status.tag, status.value),
    success: status.value === enumValue('ResultStatus', 'Success'),
    reason: reason?.type === ItemType.Enumeration ? enumName(version, reason.tag, reason.value) : undefined,
    message: text?.type === ItemType.TextString ? text.value : undefined,
    operations:
      payload?.type === ItemType.Structure
        ? payload.value.filter((c) => c.tag === tag('Operation')).length
        : 0,
  };
}
