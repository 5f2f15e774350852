import { ttlv, type TtlvItem } from '../../ttlv/types.js';
import { registryFor, type KmipVersion } from '../../kmip/registry.js';
import { enumValue, enumValues, tags, versionHasTag } from '../../kmip/vocabulary.js';
import { rngParameters } from '../server-attributes.js';
import { handler, type AnyHandler, type RequestContext, type RngDescription } from '../context.js';
import { ObjectType } from '../managed-object.js';
import { storageMasksAnswer } from '../protection-storage.js';

const T = tags(
  'Operation',
  'ObjectType',
  'VendorIdentification',
  'ServerInformation',
  'RNGParameters',
  'CapabilityInformation',
  'StreamingCapability',
  'AsynchronousCapability',
  'AttestationCapability',
  'BatchUndoCapability',
  'BatchContinueCapability',
  'UnwrapMode',
  'DestroyAction',
  'ShreddingAlgorithm',
  'RNGMode',
  'QuantumSafeCapability',
  'ProtectionStorageMasks',
);
const QueryFunction = enumValues(
  'QueryFunction',
  'QueryOperations',
  'QueryObjects',
  'QueryServerInformation',
  'QueryRNGs',
  'QueryCapabilities',
  'QueryStorageProtectionMasks',
);

export const vendorIdentification = 'kmipd';

/** The object types this server manages (Register/Get); Template only in the versions that have it (1.x). */
const managedTypes = [
  ObjectType.SymmetricKey,
  ObjectType.PublicKey,
  ObjectType.PrivateKey,
  ObjectType.SecretData,
  ObjectType.OpaqueObject,
  ObjectType.Certificate,
  ObjectType.Template,
];

/**
 * Capability Information (KMIP 1.4 §2.1.21, 2.1 §7.5), each field only in the versions that define it (Batch Undo
 * and Batch Continue Capability since 1.4, Quantum Safe Capability since 2.0):
 * - streaming (Init Indicator, Correlation Value) for the cryptographic operations; no asynchronous responses, no
 *   attestation;
 * - batches: Continue and Undo are honoured (dispatch.ts, undo.ts);
 * - Unwrap Mode Unspecified: the specification does not define the modes, so this server does not claim one;
 * - Destroy deletes the key material and keeps the metadata (destroy.ts): Key Material Deleted, not shredded;
 *   no Shredding Algorithm (Unsupported);
 * - RNG Mode: one generator instantiation serves every client (Shared) when the generator is known, else
 *   Unspecified;
 * - no quantum-safe algorithms.
 */
export function capabilityInformation(version: KmipVersion, rng: RngDescription | undefined): TtlvItem {
  const fields: [number, (tag: number) => TtlvItem][] = [
    [T.StreamingCapability, (t) => ttlv.boolean(t, true)],
    [T.AsynchronousCapability, (t) => ttlv.boolean(t, false)],
    [T.AttestationCapability, (t) => ttlv.boolean(t, false)],
    [T.BatchUndoCapability, (t) => ttlv.boolean(t, true)],
    [T.BatchContinueCapability, (t) => ttlv.boolean(t, true)],
    [T.UnwrapMode, (t) => ttlv.enumeration(t, enumValue('UnwrapMode', 'Unspecified'))],
    [T.DestroyAction, (t) => ttlv.enumeration(t, enumValue('DestroyAction', 'KeyMaterialDeleted'))],
    [T.ShreddingAlgorithm, (t) => ttlv.enumeration(t, enumValue('ShreddingAlgorithm', 'Unsupported'))],
    [
      T.RNGMode,
      (t) => ttlv.enumeration(t, enumValue('RNGMode', rng ? 'SharedInstantiation' : 'Unspecified')),
    ],
    [T.QuantumSafeCapability, (t) => ttlv.boolean(t, false)],
  ];
  return ttlv.structure(
    T.CapabilityInformation,
    fields.filter(([t]) => versionHasTag(version, t)).map(([t, make]) => make(t)),
  );
}

/**
 * Query (KMIP 1.4 §4.25, 2.1 §6.1.40), in the order of the response payload table: the operations and object types
 * this server supports, its vendor identification, RNG Parameters (1.3+), Capability Information (1.3+) and the
 * Protection Storage Masks it can satisfy (2.0+: the one its token gives every object, protection-storage.ts). The
 * operation list comes from the dispatcher's own table, so it cannot disagree with what is implemented.
 *
 * The other functions are answered with nothing, and that is the truthful answer: no Application Namespaces, no
 * Extension tags, no Attestation Types; no formal validation (§4.25: "A server MAY elect to return no validation
 * information"); no Profiles claimed, since the server profiles build on the Baseline Server, whose test cases
 * (BL-M-*-21) do not all pass yet; no Client Registration Methods (2.1 §11.10: they hand the client a PKCS#12
 * over KMIP; client certificates here come from the lab CA out of band). Defaults Information (2.0+) is not
 * described yet.
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
      if (functions.has(QueryFunction.QueryRNGs) && versionHasTag(ctx.version, T.RNGParameters)) {
        out.push(rngParameters(T.RNGParameters, ctx.rng));
      }
      if (
        functions.has(QueryFunction.QueryCapabilities) &&
        versionHasTag(ctx.version, T.CapabilityInformation)
      ) {
        out.push(capabilityInformation(ctx.version, ctx.rng));
      }
      if (
        functions.has(QueryFunction.QueryStorageProtectionMasks) &&
        versionHasTag(ctx.version, T.ProtectionStorageMasks)
      ) {
        out.push(storageMasksAnswer(ctx));
      }
      return out;
    },
  });
}
