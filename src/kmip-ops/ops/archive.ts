import { ttlv } from '../../ttlv/types.js';
import { tags } from '../../kmip/vocabulary.js';
import { handler } from '../context.js';
import {
  loadObject,
  nowSeconds,
  resolveUid,
  saveObject,
  uidResponse,
  withAttribute,
  uidRequest,
} from '../managed-object.js';

const T = tags('ArchiveDate');

/**
 * Archive (KMIP 1.4 §4.22, 2.1 §6.1.4): the client's indication that the object may be archived. This server
 * archives it at once, in place: the object keeps its material in the store and gets an Archive Date (1.4 §3.32,
 * "the date and time when the Managed Object was placed in archival storage"), which is what marks it archived.
 * From then on every operation but Recover answers Object Archived for it ("any archived object SHALL first be made
 * available by a Recover operation", 1.4 §4, 2.1 §6.1; managed-object.ts loadObject), and Locate finds it only when
 * its Storage Status Mask asks for archived objects. Archiving an archived object is Object Archived
 * (2.1 Table 175).
 */
export const archive = handler({
  operation: 'Archive',
  since: '1.0',
  access: 'manage',
  decodeRequest: uidRequest,
  async execute(uid: string | undefined, ctx) {
    const object = await loadObject(resolveUid(uid, ctx), ctx);
    const archived = ttlv.dateTime(T.ArchiveDate, nowSeconds(ctx));
    await saveObject(object, withAttribute(object.attributes, archived), ctx);
    return object.uid;
  },
  encodeResponse: uidResponse,
});
