/**
 * Whether a key may be used for a cryptographic operation now (KMIP 1.4 §3.22 State, §3.19 Cryptographic Usage
 * Mask, §3.25 Process Start Date, §3.26 Protect Stop Date; 2.1 §4.57, §4.15, §4.44, §4.45):
 * - applying protection (Encrypt, Sign, MAC) needs an Active key before its Protect Stop Date;
 * - processing protected data (Decrypt, Signature Verify, MAC Verify) also allows a Deactivated or Compromised key
 *   ("MAY be used to process cryptographically-protected information"), from its Process Start Date on;
 * - the Cryptographic Usage Mask, when the object has one, must include the operation's bit.
 */
import { ItemType } from '../../ttlv/types.js';
import { enumValues } from '../../kmip/vocabulary.js';
import type { RequestContext } from '../context.js';
import { errors } from '../errors.js';
import { nowSeconds, single, State, stateOf, type ManagedObject } from '../managed-object.js';

export const Usage = enumValues(
  'CryptographicUsageMask',
  'Sign',
  'Verify',
  'Encrypt',
  'Decrypt',
  'MACGenerate',
  'MACVerify',
);

export interface UseRule {
  /** The operation, for messages. */
  readonly operation: string;
  readonly kind: 'protect' | 'process';
  /** The Cryptographic Usage Mask bit the operation needs. */
  readonly usage: number;
}

export function checkKeyUse(object: ManagedObject, rule: UseRule, ctx: RequestContext): void {
  const state = stateOf(object);
  const allowed =
    rule.kind === 'protect'
      ? state === State.Active
      : state === State.Active || state === State.Deactivated || state === State.Compromised;
  if (!allowed) {
    const why =
      state === State.PreActive
        ? 'is Pre-Active (not yet activated)'
        : state === State.Destroyed || state === State.DestroyedCompromised
          ? 'has been destroyed'
          : rule.kind === 'protect'
            ? 'is no longer Active'
            : 'is not usable';
    throw errors.wrongStateForUse(`${rule.operation}: object ${object.uid} ${why}`);
  }
  const now = nowSeconds(ctx);
  const date = (name: string): bigint | undefined => {
    const item = single(object.attributes, name);
    return item?.type === ItemType.DateTime ? item.value : undefined;
  };
  const protectStop = date('ProtectStopDate');
  if (rule.kind === 'protect' && protectStop !== undefined && protectStop <= now) {
    throw errors.wrongStateForUse(`${rule.operation}: object ${object.uid} is past its Protect Stop Date`);
  }
  const processStart = date('ProcessStartDate');
  if (rule.kind === 'process' && processStart !== undefined && processStart > now) {
    throw errors.wrongStateForUse(`${rule.operation}: object ${object.uid} is before its Process Start Date`);
  }
  const mask = single(object.attributes, 'CryptographicUsageMask');
  if (mask?.type === ItemType.Integer && (mask.value & rule.usage) === 0) {
    throw errors.incompatibleUsageMask(
      `${rule.operation}: the Cryptographic Usage Mask of object ${object.uid} does not allow it`,
    );
  }
}
