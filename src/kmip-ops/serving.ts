/**
 * What serving an object's value to a client (Get, Export) implies beyond reading it: a value that is not Extractable
 * is not served, a Sensitive one only wrapped, and a Fresh object is fresh no more.
 */
import { ItemType, ttlv, type TtlvItem } from '../ttlv/types.js';
import { enumValues, tag } from '../kmip/vocabulary.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { unwrapStored, wrapServed, type KeyWrappingSpecification } from './key-wrapping.js';
import {
  saveMaterial,
  saveObject,
  single,
  withAttribute,
  type ManagedObject,
  type Material,
} from './managed-object.js';
import { child, objectToServe } from './object-payloads.js';
import { StoreError } from '../store/store.js';

const freshTag = tag('Fresh');
const keyWrappingDataTag = tag('KeyWrappingData');
const keyBlockTag = tag('KeyBlock');
const KeyWrapType = enumValues('KeyWrapType', 'NotWrapped');

function flag(object: ManagedObject, name: string): boolean {
  const item = single(object.attributes, name);
  return item?.type === ItemType.Boolean && item.value;
}

/**
 * The value Get and Export serve (KMIP 1.4 §4.11, §4.40): the object structure in the Key Format Type asked for,
 * wrapped when the request has a Key Wrapping Specification (key-wrapping.ts), with any material sealed again for
 * markServed. Refused first as the object's flags say:
 * - KMIP 1.4 §3.50, 2.1 §4.20 Extractable: "If False then the server SHALL prevent the object value being retrieved
 *   (via the Get operation)", wrapped or not (the vectors TC-EXTRACTABLE-1 answer Not Extractable to both);
 * - KMIP 1.4 §3.48, 2.1 §4.55 Sensitive: "the server SHALL prevent the object value being retrieved (via the Get
 *   operation) unless it is wrapped by another key", so a Sensitive value is served wrapped only (wrapped now, or
 *   as registered wrapped).
 * A key registered wrapped is served as registered, unless Key Wrap Type Not Wrapped asks for it in clear (1.4
 * §9.1.3.2.48) or a Key Wrapping Specification for it wrapped under another key: then it is unwrapped first.
 */
export async function servedValue(
  object: ManagedObject,
  objectType: number,
  ctx: RequestContext,
  requested: {
    readonly format: number | undefined;
    readonly wrapping: KeyWrappingSpecification | undefined;
    readonly keyWrapType: number | undefined;
  },
): Promise<{ readonly structure: TtlvItem; readonly resealed: Material | undefined }> {
  const { format, wrapping, keyWrapType } = requested;
  refuseNotExtractable(object);
  const sensitive = flag(object, 'Sensitive');
  if (wrapping === undefined && sensitive && keyWrapType === KeyWrapType.NotWrapped) {
    throw errors.sensitive(`object ${object.uid} is Sensitive: its value is not served in clear`);
  }
  const unwrapFirst = wrapping !== undefined || keyWrapType === KeyWrapType.NotWrapped;
  const served = await objectToServe(
    object,
    objectType,
    ctx,
    format,
    unwrapFirst ? (structure) => unwrapStored(object, structure, ctx) : undefined,
  );
  if (wrapping === undefined) {
    if (sensitive && !storedWrapped(served.structure)) {
      throw errors.sensitive(`object ${object.uid} is Sensitive: its value is not served in clear`);
    }
    return served;
  }
  return { structure: await wrapServed(object, served.structure, wrapping, ctx), resealed: served.resealed };
}

function storedWrapped(structure: TtlvItem): boolean {
  return child(child(structure, keyBlockTag), keyWrappingDataTag) !== undefined;
}

/** KMIP 1.4 §3.50, 2.1 §4.20: the value of an object whose Extractable is False leaves the server in no form. */
export function refuseNotExtractable(object: ManagedObject): void {
  const extractable = single(object.attributes, 'Extractable');
  if (extractable?.type === ItemType.Boolean && !extractable.value) {
    throw errors.notExtractable(`object ${object.uid} is not Extractable: its value is not served`);
  }
}

/**
 * What an operation that hands out the value in another form the client can turn back into it (the parts of
 * Create Split Key) refuses: a value not Extractable, or Sensitive (KMIP 1.4 §3.48: served only wrapped).
 */
export function refuseClearValue(object: ManagedObject): void {
  refuseNotExtractable(object);
  if (flag(object, 'Sensitive')) {
    throw errors.sensitive(
      `object ${object.uid} is Sensitive: its value is not handed out in clear, split or not`,
    );
  }
}

/**
 * KMIP 2.1 §4.24 Fresh: "The server SHALL change the value to False when the object is served via a Get". With it,
 * or alone, the material sealed again in a form the token reads faster (objectToServe), if there is one. Two
 * requests serving an object at once both try to write: the one that loses finds the object changed (a revision
 * conflict) by the other, which has made the same change or will be followed by the next Get; the value itself was
 * served either way, so that conflict does not fail the request. A change made meanwhile by another operation
 * (Destroy among them) wins the same way: nothing here overwrites it.
 */
export async function markServed(
  object: ManagedObject,
  ctx: RequestContext,
  resealed?: Material,
): Promise<void> {
  const fresh = flag(object, 'Fresh');
  try {
    if (fresh) {
      const served = resealed === undefined ? object : { ...object, material: resealed };
      await saveObject(served, withAttribute(object.attributes, ttlv.boolean(freshTag, false)), ctx);
    } else if (resealed !== undefined) {
      await saveMaterial(object, resealed, ctx);
    }
  } catch (error) {
    if (!(error instanceof StoreError && error.code === 'conflict')) throw error;
  }
}
