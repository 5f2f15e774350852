import { ttlv, ItemType, type TtlvItem } from '../ttlv/types.js';
import type { Fields } from '../kmip/fields.js';
import { enumValues, tags } from '../kmip/vocabulary.js';
import type { Services } from './context.js';
import { errors, type KmipError } from './errors.js';

/**
 * Protection Storage (KMIP 2.0/2.1 §4.44 Protection Storage Mask, §7.33 Protection Storage Masks, §12.2): where the
 * server keeps an object's material. Every object is kept in the one token behind the server, so every object has
 * the same mask: Software for a software token (SoftHSM2), Hardware for a slot that says it is a hardware device.
 */

const T = tags('ProtectionStorageMask', 'ProtectionStorageMasks');
const StorageMask = enumValues('ProtectionStorageMask', 'Software', 'Hardware');

/** The mask every object this server stores has. */
export function storageMaskOf(services: Pick<Services, 'protectionStorage'>): number {
  return StorageMask[services.protectionStorage ?? 'Software'];
}

/** The object's Protection Storage Mask attribute (2.1 §4.44: "SHALL always have a value"). */
export function storageMaskAttribute(services: Pick<Services, 'protectionStorage'>): TtlvItem {
  return ttlv.integer(T.ProtectionStorageMask, storageMaskOf(services));
}

/** Query Storage Protection Masks (2.1 §6.1.40): the selections this server can satisfy, which is its one mask. */
export function storageMasksAnswer(services: Pick<Services, 'protectionStorage'>): TtlvItem {
  return ttlv.structure(T.ProtectionStorageMasks, [storageMaskAttribute(services)]);
}

/**
 * Refuses a request whose Protection Storage Masks (Create, Register, Create Key Pair's Common / Private / Public
 * variants) the server cannot satisfy: 2.1 §7.33, the server "SHALL return an error if no single Storage Protection
 * Mask can be satisfied in its entirety (all bits match)". A mask is satisfied when each of its bits is a property
 * of the server's storage. No masks in the request accept any storage.
 */
export function requireStorage(
  payload: Fields | undefined,
  field:
    | 'ProtectionStorageMasks'
    | 'CommonProtectionStorageMasks'
    | 'PrivateProtectionStorageMasks'
    | 'PublicProtectionStorageMasks',
  services: Pick<Services, 'protectionStorage'>,
): void {
  const masks = payload?.struct(field);
  if (masks === undefined) return;
  const offered = masks
    .all('ProtectionStorageMask')
    .flatMap((m) => (m.type === ItemType.Integer ? [m.value] : []));
  if (offered.length === 0) throw errors.invalidField(`${field} holds no Protection Storage Mask`);
  const ours = storageMaskOf(services);
  if (offered.some((mask) => (mask & ~ours) === 0)) return;
  const where = services.protectionStorage ?? 'Software';
  throw unavailable(field)(
    `no Protection Storage Mask the request accepts (${offered.map((m) => `0x${m.toString(16)}`).join(', ')}) ` +
      `is met: every object here is kept in a ${where.toLowerCase()} token (${where}, 0x${ours.toString(16)})`,
  );
}

function unavailable(field: string): (message: string) => KmipError {
  if (field === 'PrivateProtectionStorageMasks') return errors.privateProtectionStorageUnavailable;
  if (field === 'PublicProtectionStorageMasks') return errors.publicProtectionStorageUnavailable;
  return errors.protectionStorageUnavailable;
}
