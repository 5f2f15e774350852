import { ItemType, type StructureItem } from '../../ttlv/types.js';
import { tag } from '../../kmip/vocabulary.js';
import type { StoreChange } from '../../store/store.js';
import type { Attribute } from '../../kmip/attributes.js';
import { handler, type RequestContext } from '../context.js';
import { requireStorage } from '../protection-storage.js';
import { errors } from '../errors.js';
import {
  activationState,
  createObject,
  newUid,
  ObjectType,
  serverAttributes,
  newObjectPut,
  uidResponse,
  type ManagedObject,
} from '../managed-object.js';
import { link, LinkType } from '../links.js';
import {
  child,
  impliedAttributes,
  KeyFormat,
  materialForRegister,
  readObjectStructure,
} from '../object-payloads.js';
import { readPkcs12ForRegister } from '../pkcs12-objects.js';
import { requireQuantumSafe } from '../quantum-safe.js';
import { leaseTimeAttributes, newObjectFlags, registeredDigest } from '../server-attributes.js';
import { withFullUsageCount } from '../usage-limits.js';
import { attributeContainer, clientAttributes } from '../template.js';

const keyBlockTag = tag('KeyBlock');
const keyFormatTypeTag = tag('KeyFormatType');

interface RegisterRequest {
  readonly objectType: number;
  readonly attributes: Attribute[];
  readonly structure: StructureItem;
}

/**
 * Register (KMIP 1.4 §4.3, 2.1 §6.1.41): stores a client-supplied object. Secret material is sealed by the token as
 * registered; a usage mask of 0 and Names that other objects already use are accepted.
 */
export const register = handler({
  operation: 'Register',
  since: '1.0',
  access: 'create',
  decodeRequest(payload, ctx): RegisterRequest {
    if (!payload) throw errors.invalidField('Register needs a request payload');
    const objectType = payload.requiredEnumeration('ObjectType');
    requireStorage(payload, 'ProtectionStorageMasks', ctx);
    const attributes = clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx, {
      registering: true,
    });
    return {
      objectType,
      attributes,
      structure: readObjectStructure(payload, objectType, ctx, { pkcs12: true }),
    };
  },
  execute(request: RegisterRequest, ctx) {
    if (isPkcs12(request.structure)) return registerPkcs12(request, ctx);
    return storeStructure(request.objectType, request.attributes, request.structure, ctx);
  },
  encodeResponse: uidResponse,
});

function isPkcs12(structure: StructureItem): boolean {
  const format = child(child(structure, keyBlockTag), keyFormatTypeTag);
  return format?.type === ItemType.Enumeration && format.value === KeyFormat.PKCS_12;
}

/**
 * A PKCS#12 container (pkcs12-objects.ts): the private key it holds and each certificate of the key's chain become
 * objects, the key linked to its certificate and each certificate to its issuer's by PKCS#12 Certificate Links, all
 * in one commit; the answer is the key's Unique Identifier.
 */
async function registerPkcs12(request: RegisterRequest, ctx: RequestContext): Promise<string> {
  const read = await readPkcs12ForRegister(request.attributes, request.structure, ctx);
  const certificates: Omit<ManagedObject, 'revision'>[] = [];
  let issuer: string | undefined;
  for (const certificate of read.certificates) {
    const attributes =
      issuer === undefined
        ? certificate.attributes
        : [...certificate.attributes, link(LinkType.PKCS_12CertificateLink, issuer)];
    const object = await newStructureObject(ObjectType.Certificate, attributes, certificate.structure, ctx);
    certificates.push(object);
    issuer = object.uid;
  }
  const attributes = [
    ...request.attributes,
    ...read.keyAttributes,
    ...(issuer === undefined ? [] : [link(LinkType.PKCS_12CertificateLink, issuer)]),
  ];
  const key = await newStructureObject(ObjectType.PrivateKey, attributes, read.key, ctx);
  await createObject(key, ctx, certificates.map(newObjectPut));
  ctx.touched.push(...certificates.map((object) => object.uid));
  return key.uid;
}

/**
 * Stores an object structure as Register does: the client's attributes and those its Key Block implies, sealed by
 * the owner's key, with its Digest, Lease Time and flags. Create of Secret Data stores the bytes it drew this way
 * too, adding what a generated object has (`generated`: Original Creation Date, Random Number Generator); Derive
 * Key stores what it derived, with `alsoPut` writing the base object's new link in the same commit.
 */
export async function storeStructure(
  objectType: number,
  requested: readonly Attribute[],
  structure: StructureItem,
  ctx: RequestContext,
  generated: readonly Attribute[] = [],
  alsoPut: (uid: string) => NonNullable<StoreChange['put']> = () => [],
): Promise<string> {
  const object = await newStructureObject(objectType, requested, structure, ctx, generated);
  await createObject(object, ctx, alsoPut(object.uid));
  return object.uid;
}

/**
 * The object storeStructure stores, not yet stored: for operations that make several objects in one commit
 * (Create Split Key).
 */
export async function newStructureObject(
  objectType: number,
  requested: readonly Attribute[],
  structure: StructureItem,
  ctx: RequestContext,
  generated: readonly Attribute[] = [],
): Promise<Omit<ManagedObject, 'revision'>> {
  const uid = newUid();
  const owner = ctx.principal.name;
  const given = withFullUsageCount(requested);
  const implied = impliedAttributes(structure).filter(
    (item) => !given.some((a) => a.kind === 'standard' && a.value.tag === item.tag),
  );
  const attributes: Attribute[] = [
    ...given,
    ...implied.map((value): Attribute => ({ kind: 'standard', value })),
  ];
  requireQuantumSafe(objectType, attributes);
  const state = activationState(attributes, ctx);
  const digest = await registeredDigest(structure, ctx);
  if (digest) attributes.push(digest);
  // A Template (1.x) is no cryptographic object: no Lease Time, no Sensitive or Extractable flags of its own.
  if (objectType !== ObjectType.Template)
    attributes.push(...leaseTimeAttributes(objectType), ...newObjectFlags(given), ...generated);
  const material = await materialForRegister(structure, objectType, owner, ctx);
  return {
    uid,
    owner,
    attributes: [...serverAttributes(ctx, uid, objectType, state), ...attributes],
    material,
  };
}
