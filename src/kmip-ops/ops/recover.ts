import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import {
  loadObject,
  resolveUid,
  saveObject,
  single,
  uidResponse,
  withAttribute,
  uidRequest,
} from '../managed-object.js';

const T = tags('ArchiveDate');

/**
 * Recover (KMIP 1.4 §4.23, 2.1 §6.1.42): an archived object back on-line. The object never left the store
 * (archive.ts), so it is on-line at once and the response needs no asynchronous polling; its Archive Date is
 * deleted ("The server SHALL delete this attribute whenever a Recover operation is performed", 1.4 §3.32). An
 * object already on-line is left as it is. The object becomes the ID placeholder (2.1 §6.1: Recover is among the
 * operations whose Unique Identifier the placeholder takes).
 */
export const recover = handler({
  operation: 'Recover',
  since: '1.0',
  access: 'manage',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx) {
    const object = await loadObject(resolveUid(uid, ctx), ctx, { archived: 'allow' });
    if (single(object.attributes, 'ArchiveDate') !== undefined) {
      await saveObject(object, withAttribute(object.attributes, undefined, T.ArchiveDate), ctx);
    }
    ctx.idPlaceholder.current = object.uid;
    return object.uid;
  },
  encodeResponse: uidResponse,
});
