/**
 * What serving an object's value to a client (Get, Export) implies beyond reading it: a Sensitive object's value is
 * not served in clear, and a Fresh object is fresh no more.
 */
import { ItemType, ttlv } from '../ttlv/types.js';
import { tag } from '../kmip/vocabulary.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { saveObject, single, withAttribute, type ManagedObject } from './managed-object.js';

const freshTag = tag('Fresh');

function flag(object: ManagedObject, name: string): boolean {
  const item = single(object.attributes, name);
  return item?.type === ItemType.Boolean && item.value;
}

/**
 * KMIP 1.4 §3.48, 2.1 §4.55 Sensitive: "the server SHALL prevent the object value being retrieved (via the Get
 * operation) unless it is wrapped by another key"; key wrapping on Get and Export is not offered, so the value is not
 * served at all.
 */
export function refuseSensitive(object: ManagedObject): void {
  if (flag(object, 'Sensitive')) {
    throw errors.sensitive(`object ${object.uid} is Sensitive: its value is not served in clear`);
  }
}

/** KMIP 2.1 §4.24 Fresh: "The server SHALL change the value to False when the object is served via a Get". */
export async function markServed(object: ManagedObject, ctx: RequestContext): Promise<void> {
  if (flag(object, 'Fresh')) {
    await saveObject(object, withAttribute(object.attributes, ttlv.boolean(freshTag, false)), ctx);
  }
}
