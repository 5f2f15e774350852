import { formatTag, ItemType, itemTypeName, type StructureItem, type TtlvItem } from '../ttlv/types.js';
import { registryFor, type KmipVersion } from './registry.js';
import { tag as tagOf } from './vocabulary.js';

/**
 * Reading the fields of a decoded Structure by name, with the errors a client needs to fix its request: which
 * field, where, and what was wrong. The operation layer turns a FieldError into Invalid Field / Invalid Message.
 */
export type FieldErrorCode = 'missing' | 'wrong-type' | 'repeated' | 'bad-value' | 'unknown-tag';

export class FieldError extends Error {
  override readonly name = 'FieldError';
  constructor(
    readonly code: FieldErrorCode,
    /** Where, as KMIP XML names: "RequestMessage/BatchItem/RequestPayload/UniqueIdentifier". */
    readonly path: string,
    readonly detail: string,
  ) {
    super(`${path}: ${detail}`);
  }
}

export class Fields {
  readonly version: KmipVersion;
  readonly item: StructureItem;
  readonly path: string;

  constructor(item: TtlvItem, version: KmipVersion, path: string) {
    this.version = version;
    this.path = path;
    if (item.type !== ItemType.Structure) {
      throw new FieldError('wrong-type', path, `is a ${itemTypeName(item.type) ?? '?'}, not a Structure`);
    }
    this.item = item;
  }

  private name(tagValue: number): string {
    return registryFor(this.version).tag(tagValue)?.xmlName ?? formatTag(tagValue);
  }

  all(name: string): TtlvItem[] {
    const t = tagOf(name);
    return this.item.value.filter((child) => child.tag === t);
  }

  optional(name: string): TtlvItem | undefined {
    const found = this.all(name);
    if (found.length > 1)
      throw new FieldError('repeated', `${this.path}/${name}`, `appears ${found.length} times`);
    return found[0];
  }

  required(name: string): TtlvItem {
    const item = this.optional(name);
    if (!item) throw new FieldError('missing', `${this.path}/${name}`, 'is required');
    return item;
  }

  private typed<T extends TtlvItem['type']>(
    item: TtlvItem | undefined,
    name: string,
    type: T,
  ): Extract<TtlvItem, { type: T }> | undefined {
    if (item === undefined) return undefined;
    if (item.type !== type) {
      throw new FieldError(
        'wrong-type',
        `${this.path}/${name}`,
        `is a ${itemTypeName(item.type) ?? '?'}, not a ${itemTypeName(type) ?? '?'}`,
      );
    }
    return item as Extract<TtlvItem, { type: T }>;
  }

  struct(name: string): Fields | undefined {
    const item = this.optional(name);
    return item ? new Fields(item, this.version, `${this.path}/${name}`) : undefined;
  }

  requiredStruct(name: string): Fields {
    return new Fields(this.required(name), this.version, `${this.path}/${name}`);
  }

  structs(name: string): Fields[] {
    return this.all(name).map((item, i) => new Fields(item, this.version, `${this.path}/${name}[${i}]`));
  }

  text(name: string): string | undefined {
    return this.typed(this.optional(name), name, ItemType.TextString)?.value;
  }

  requiredText(name: string): string {
    return this.typed(this.required(name), name, ItemType.TextString)?.value ?? '';
  }

  texts(name: string): string[] {
    return this.all(name).map((item) => this.typed(item, name, ItemType.TextString)?.value ?? '');
  }

  integer(name: string): number | undefined {
    return this.typed(this.optional(name), name, ItemType.Integer)?.value;
  }

  requiredInteger(name: string): number {
    return this.typed(this.required(name), name, ItemType.Integer)?.value ?? 0;
  }

  longInteger(name: string): bigint | undefined {
    return this.typed(this.optional(name), name, ItemType.LongInteger)?.value;
  }

  interval(name: string): number | undefined {
    return this.typed(this.optional(name), name, ItemType.Interval)?.value;
  }

  enumeration(name: string): number | undefined {
    return this.typed(this.optional(name), name, ItemType.Enumeration)?.value;
  }

  requiredEnumeration(name: string): number {
    return this.typed(this.required(name), name, ItemType.Enumeration)?.value ?? 0;
  }

  enumerations(name: string): number[] {
    return this.all(name).map((item) => this.typed(item, name, ItemType.Enumeration)?.value ?? 0);
  }

  boolean(name: string): boolean | undefined {
    return this.typed(this.optional(name), name, ItemType.Boolean)?.value;
  }

  bytes(name: string): Uint8Array | undefined {
    return this.typed(this.optional(name), name, ItemType.ByteString)?.value;
  }

  dateTime(name: string): bigint | undefined {
    return this.typed(this.optional(name), name, ItemType.DateTime)?.value;
  }

  /** Children whose tags are not among the names a reader expects: reported so a client learns its mistake. */
  unexpected(known: readonly string[]): string[] {
    const allowed = new Set(known.map(tagOf));
    return this.item.value.filter((child) => !allowed.has(child.tag)).map((child) => this.name(child.tag));
  }
}

/**
 * Every tag in a message must exist in the message's KMIP version (extension tags 0x54xxxx aside): a 1.0 client
 * that sends a 2.0 tag is told so by name rather than getting a vague failure later. Runs on every request, so
 * the path is only spelled out when there is an error to report.
 */
export function checkTagsExist(item: TtlvItem, version: KmipVersion): void {
  const registry = registryFor(version);
  const trail: number[] = [];
  const walk = (node: TtlvItem): void => {
    trail.push(node.tag);
    if (node.tag >>> 16 === 0x42 && registry.tag(node.tag) === undefined) {
      const here = trail.map((t) => registry.tag(t)?.xmlName ?? formatTag(t)).join('/');
      throw new FieldError(
        'unknown-tag',
        here,
        `tag 0x${formatTag(node.tag)} is not defined in KMIP ${version}`,
      );
    }
    if (node.type === ItemType.Structure) for (const child of node.value) walk(child);
    trail.pop();
  };
  walk(item);
}
