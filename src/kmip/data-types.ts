/**
 * Shapes of the generated registry data (src/kmip/generated.ts, from src/kmip/data/kmip-<version>.json).
 *
 * KMIP 1.0 is the full base; every later version is a delta against the version before it (2.0 against 1.4), so a tag
 * number is written once: later versions name tags, never renumber them.
 */
import type { ItemTypeName } from '../ttlv/types.js';

export type KmipVersion = '1.0' | '1.1' | '1.2' | '1.3' | '1.4' | '2.0' | '2.1';

/** An item type, or "Varies" where the spec gives a tag several encodings (Attribute Value, Key Material ...). */
export type TypeName = ItemTypeName | 'Varies';

/** [tag value, spec name, type (null: the spec gives none), name of the enumeration or mask it carries]. */
export type TagRow =
  | readonly [value: number, name: string, type: TypeName | null]
  | readonly [value: number, name: string, type: TypeName | null, enumName: string];

export type EnumValue = readonly [name: string, value: number];

export interface EnumTable {
  readonly name: string;
  readonly values: readonly EnumValue[];
}

export interface TagChange {
  /** The tag's name in the previous version. */
  readonly name: string;
  readonly rename?: string;
  readonly type?: TypeName | null;
  readonly enum?: string | null;
}

export interface EnumChange {
  readonly name: string;
  readonly add?: readonly EnumValue[];
  /** Value names as spelt in the previous version. */
  readonly remove?: readonly string[];
  readonly rename?: readonly (readonly [from: string, to: string])[];
}

export interface Delta<E, C> {
  readonly add?: readonly E[];
  /** Names as spelt in the previous version. */
  readonly remove?: readonly string[];
  readonly change?: readonly C[];
}

export interface BaseData {
  readonly tags: readonly TagRow[];
  readonly enumerations: readonly EnumTable[];
  readonly masks: readonly EnumTable[];
}

export interface DeltaData {
  readonly base: KmipVersion;
  readonly tags: Delta<TagRow, TagChange>;
  readonly enumerations: Delta<EnumTable, EnumChange>;
  readonly masks: Delta<EnumTable, EnumChange>;
}

export interface KmipDataSet {
  readonly '1.0': BaseData;
  readonly '1.1': DeltaData;
  readonly '1.2': DeltaData;
  readonly '1.3': DeltaData;
  readonly '1.4': DeltaData;
  readonly '2.0': DeltaData;
  readonly '2.1': DeltaData;
}
