import type { StructureItem } from '../../ttlv/types.js';
import type { Attribute } from '../../kmip/attributes.js';
import { handler } from '../context.js';
import { requireStorage } from '../protection-storage.js';
import { errors } from '../errors.js';
import { createObject, newUid, serverAttributes, uidResponse } from '../managed-object.js';
import { impliedAttributes, materialForRegister, readObjectStructure } from '../object-payloads.js';
import { requireQuantumSafe } from '../quantum-safe.js';
import { leaseTimeAttributes, newObjectFlags, registeredDigest } from '../server-attributes.js';
import { withFullUsageCount } from '../usage-limits.js';
import { attributeContainer, clientAttributes } from '../template.js';
import { activationState } from './create.js';

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
    const attributes = clientAttributes(attributeContainer(payload, 'TemplateAttribute', 'Attributes'), ctx);
    return { objectType, attributes, structure: readObjectStructure(payload, objectType, ctx) };
  },
  async execute(request: RegisterRequest, ctx) {
    const uid = newUid();
    const owner = ctx.principal.name;
    const given = withFullUsageCount(request.attributes);
    const implied = impliedAttributes(request.structure).filter(
      (item) => !given.some((a) => a.kind === 'standard' && a.value.tag === item.tag),
    );
    const attributes: Attribute[] = [
      ...given,
      ...implied.map((value): Attribute => ({ kind: 'standard', value })),
    ];
    requireQuantumSafe(request.objectType, attributes);
    const state = activationState(attributes, ctx);
    const digest = await registeredDigest(request.structure, ctx);
    if (digest) attributes.push(digest);
    attributes.push(...leaseTimeAttributes(request.objectType), ...newObjectFlags(given));
    const material = await materialForRegister(request.structure, request.objectType, owner, ctx);
    await createObject(
      {
        uid,
        owner,
        attributes: [...serverAttributes(ctx, uid, request.objectType, state), ...attributes],
        material,
      },
      ctx,
    );
    return uid;
  },
  encodeResponse: uidResponse,
});
