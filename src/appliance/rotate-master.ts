import type { Hsm } from '../hsm/hsm.js';
import { parseKek, serializeKek } from '../kmip-ops/keys.js';
import type { ObjectStore } from '../store/store.js';

export interface RotationReport {
  readonly previous: string;
  readonly current: string;
  readonly rewrapped: number;
  readonly retired: readonly string[];
}

/**
 * Rotates the master key (DESIGN.md "Keys behind the token"): a new master key in the token, every owner KEK
 * rewrapped under it inside the token, and the old master key destroyed once nothing uses it. Only the KEKs are
 * touched, never the objects they protect, so the cost is one rewrap per owner.
 */
export async function rotateMasterKey(hsm: Hsm, store: ObjectStore): Promise<RotationReport> {
  const previous = hsm.currentMasterLabel();
  const current = await hsm.rotateMaster();
  let rewrapped = 0;
  const stillOld = new Set<string>();
  for await (const [owner, record] of store.listKeks()) {
    const kek = parseKek(record);
    if (kek.masterLabel === current) continue;
    const next = await hsm.rewrapKek(kek);
    await store.putKek(owner, serializeKek(next), record);
    rewrapped += 1;
    if (next.masterLabel !== current) stillOld.add(next.masterLabel);
  }
  const retired: string[] = [];
  if (previous !== current && !stillOld.has(previous)) {
    await hsm.retireMaster(previous);
    retired.push(previous);
  }
  return { previous, current, rewrapped, retired };
}
