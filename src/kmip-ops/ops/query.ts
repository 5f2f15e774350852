import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { registryFor } from '../../kmip/registry.js';
import { enumValues, tags, versionHasTag } from '../../kmip/vocabulary.js';
import { handler, type AnyHandler, type RequestContext } from '../context.js';
import { ObjectType } from '../managed-object.js';

const T = tags('Operation', 'ObjectType', 'VendorIdentification', 'ServerInformation', 'QueryFunction');
const QueryFunction = enumValues(
  'QueryFunction',
  'QueryOperations',
  'QueryObjects',
  'QueryServerInformation',
);

export const vendorIdentification = 'kmipd';

/** The object types this server manages (Register/Get). */
const managedTypes = [
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
  ObjectType.Certificate,
];

/**
 * Query (KMIP 1.4 §4.25): the operations and object types this server supports, and its vendor identification.
 * The operation list comes from the dispatcher's own table, so it cannot disagree with what is implemented.
 */
export function queryHandler(operations: (ctx: RequestContext) => readonly string[]): AnyHandler {
  return handler({
    operation: 'Query',
    since: '1.0',
    access: 'info',
    decodeRequest(payload) {
      return new Set(payload?.enumerations('QueryFunction') ?? []);
    },
    execute(functions: Set<number>, ctx) {
      return Promise.resolve({ functions, operations: operations(ctx) });
    },
    encodeResponse({ functions, operations: names }, ctx): TtlvItem[] {
      const out: TtlvItem[] = [];
      const registry = registryFor(ctx.version);
      if (functions.has(QueryFunction.QueryOperations)) {
        for (const name of names) {
          const value = registry.enumValue(T.Operation, name);
          if (value !== undefined) out.push(ttlv.enumeration(T.Operation, value));
        }
      }
      if (functions.has(QueryFunction.QueryObjects)) {
        for (const type of managedTypes) {
          if (registry.enumName(T.ObjectType, type) !== undefined)
            out.push(ttlv.enumeration(T.ObjectType, type));
        }
      }
      if (functions.has(QueryFunction.QueryServerInformation)) {
        out.push(ttlv.textString(T.VendorIdentification, vendorIdentification));
        if (versionHasTag(ctx.version, T.ServerInformation))
          out.push(ttlv.structure(T.ServerInformation, []));
      }
      return out;
    },
  });
}
