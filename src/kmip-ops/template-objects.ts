import { decodeTtlv } from '../ttlv/decode.js';
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, ttlv, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import { attributeKey, readAttribute1x } from '../kmip/attributes.js';
import { Fields } from '../kmip/fields.js';
import { tags } from '../kmip/vocabulary.js';
import { objectAccess, visibleOwners } from './access.js';
import type { RequestContext } from './context.js';
import { errors } from './errors.js';
import { fromStored, ObjectType, single, storedTypeName, type ManagedObject } from './managed-object.js';
import { isMultiValued } from './template.js';

/**
 * Template objects (KMIP 1.0-1.4 §2.2.6; deprecated in 1.3, gone in 2.0): a named object holding client-settable
 * attributes, which a request applies by naming it in a Template-Attribute (§2.1.8: "zero or more template names
 * and zero or more individual attributes"). Register stores one like any object (object-payloads.ts); here the
 * names a request gives are replaced, before its operation reads it, by the attributes of those templates, with
 * the precedence of KMIP 1.4 §4 (the operations' introduction):
 * - between templates, the last one's single-instance attribute wins;
 * - the request's own single-instance attributes win over the templates';
 * - multi-instance attributes are the union of all of them.
 * Create Key Pair's Common, Private Key and Public Key Template-Attributes are each expanded on their own; the
 * operation then gives the Private and Public ones precedence over the Common one, as it already does.
 */

const T = tags(
  'TemplateAttribute',
  'CommonTemplateAttribute',
  'PrivateKeyTemplateAttribute',
  'PublicKeyTemplateAttribute',
  'Name',
  'NameValue',
  'Attribute',
  'Template',
);

const containerTags = new Set([
  T.TemplateAttribute,
  T.CommonTemplateAttribute,
  T.PrivateKeyTemplateAttribute,
  T.PublicKeyTemplateAttribute,
]);

const namesTemplate = (container: TtlvItem): boolean =>
  containerTags.has(container.tag) &&
  container.type === ItemType.Structure &&
  container.value.some((child) => child.tag === T.Name);

/** Whether a request payload names a template (checked synchronously: most requests name none). */
export function namesTemplates(payload: TtlvItem): payload is StructureItem {
  return payload.type === ItemType.Structure && payload.value.some(namesTemplate);
}

/**
 * The request payload with the templates its Template-Attributes name replaced by their attributes; the payload
 * itself when it names none (every 2.x request, and most 1.x ones). A name no template visible to the client
 * carries is Item Not Found.
 */
export async function expandTemplateReferences(payload: TtlvItem, ctx: RequestContext): Promise<TtlvItem> {
  if (!namesTemplates(payload)) return payload;
  const children: TtlvItem[] = [];
  for (const child of payload.value) {
    children.push(namesTemplate(child) ? await expandContainer(child as StructureItem, ctx) : child);
  }
  return ttlv.structure(payload.tag, children);
}

async function expandContainer(container: StructureItem, ctx: RequestContext): Promise<StructureItem> {
  let attributes: TtlvItem[] = [];
  for (const name of container.value.filter((child) => child.tag === T.Name)) {
    attributes = overlay(attributes, await templateAttributes(name, ctx), ctx);
  }
  const own = container.value.filter((child) => child.tag !== T.Name);
  return ttlv.structure(container.tag, overlay(attributes, own, ctx));
}

/**
 * `top` laid over `base` (both 1.x Attribute structures): a single-instance attribute of `top` replaces every
 * instance `base` has of it; a multi-instance one is added unless `base` already holds the same value.
 */
function overlay(base: readonly TtlvItem[], top: readonly TtlvItem[], ctx: RequestContext): TtlvItem[] {
  const keyOf = (item: TtlvItem): { key: string; multi: boolean } => {
    const attribute = readAttribute1x(new Fields(item, ctx.version, 'Template-Attribute/Attribute'));
    return { key: attributeKey(attribute), multi: isMultiValued(attribute) };
  };
  const tops = top.map((item) => ({ item, ...keyOf(item) }));
  const replaced = new Set(tops.flatMap(({ key, multi }) => (multi ? [] : [key])));
  const result = base.filter((item) => !replaced.has(keyOf(item).key));
  const encoded = new Set(result.map((item) => Buffer.from(encodeTtlv(item)).toString('hex')));
  for (const { item, multi } of tops) {
    const bytes = Buffer.from(encodeTtlv(item)).toString('hex');
    if (multi && encoded.has(bytes)) continue;
    encoded.add(bytes);
    result.push(item);
  }
  return result;
}

/**
 * The Attribute structures of the Template that carries this Name and whose content the client may read (as Get
 * would read it: 'read-material'), its own first, then the oldest of another owner's. An archived one is Object
 * Archived (KMIP 1.4 Tables 328-330: "Template object is archived").
 */
async function templateAttributes(name: TtlvItem, ctx: RequestContext): Promise<TtlvItem[]> {
  const value =
    name.type === ItemType.Structure ? name.value.find((child) => child.tag === T.NameValue) : undefined;
  if (value?.type !== ItemType.TextString) {
    throw errors.invalidField('a template Name in a Template-Attribute needs its Name Value');
  }
  const owners = visibleOwners(ctx.principal, 'read-material');
  const candidates = await ctx.store.locate({
    name: value.value,
    objectType: storedTypeName(ObjectType.Template),
    ...(owners ? { owners } : {}),
  });
  const readable: ManagedObject[] = [];
  for (const uid of candidates) {
    const stored = await ctx.store.get(uid);
    if (!stored || objectAccess(ctx.principal, stored.owner, 'read-material') !== 'ok') continue;
    const template = fromStored(stored);
    // A destroyed template keeps its metadata (destroy.ts) but no longer its attributes.
    if (template.material?.kind === 'clear-object') readable.push(template);
  }
  const template = readable.find((t) => t.owner === ctx.principal.name) ?? readable[0];
  if (template === undefined) throw errors.itemNotFound(`no Template named "${value.value}"`);
  if (single(template.attributes, 'ArchiveDate') !== undefined) {
    throw errors.objectArchived(`the Template named "${value.value}" is archived; Recover it first`);
  }
  ctx.touched.push(template.uid);
  const material = template.material;
  const structure = material?.kind === 'clear-object' ? decodeTtlv(material.bytes) : undefined;
  if (structure?.tag !== T.Template || structure.type !== ItemType.Structure) {
    throw errors.generalFailure(`the Template named "${value.value}" holds no Template structure`);
  }
  return structure.value.filter((child) => child.tag === T.Attribute);
}
