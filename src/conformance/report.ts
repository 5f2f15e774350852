/** The run's report: a table per profile and version, then failures and skips, last line the totals. */
import type { VectorOutcome } from './runner.js';
import { naturalOrder } from './vectors.js';

export interface ProfileCounts {
  readonly profile: string;
  readonly version: string;
  passed: number;
  failed: number;
  skipped: number;
}

export function countByProfile(outcomes: readonly VectorOutcome[]): ProfileCounts[] {
  const rows = new Map<string, ProfileCounts>();
  for (const { vector, verdict } of outcomes) {
    const key = `${vector.version} ${vector.profile}`;
    let row = rows.get(key);
    if (!row) {
      row = { profile: vector.profile, version: vector.version, passed: 0, failed: 0, skipped: 0 };
      rows.set(key, row);
    }
    row[verdict]++;
  }
  return [...rows.values()].sort(
    (a, b) => naturalOrder(a.version, b.version) || naturalOrder(a.profile, b.profile),
  );
}

export function totals(outcomes: readonly VectorOutcome[]): {
  passed: number;
  failed: number;
  skipped: number;
} {
  const count = (verdict: string): number => outcomes.filter((o) => o.verdict === verdict).length;
  return { passed: count('passed'), failed: count('failed'), skipped: count('skipped') };
}

/** One line for a failed or skipped vector. */
export function describeOutcome(outcome: VectorOutcome): string {
  const at = outcome.message === undefined ? '' : ` #${outcome.message}`;
  const { difference } = outcome;
  const why =
    difference === undefined
      ? (outcome.reason ?? '')
      : `${difference.path}: expected ${difference.expected}, got ${difference.actual}`;
  const said = outcome.serverSaid === undefined ? '' : ` [server: ${outcome.serverSaid}]`;
  return `${outcome.vector.key}${at}: ${why}${said}`;
}

export function formatReport(outcomes: readonly VectorOutcome[]): string {
  const rows = countByProfile(outcomes);
  const header = ['version', 'profile', 'passed', 'failed', 'skipped'];
  const cells = rows.map((r) => [
    r.version,
    r.profile,
    String(r.passed),
    String(r.failed),
    String(r.skipped),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string =>
    c.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  const out = [line(header), ...cells.map(line)];
  const failed = outcomes.filter((o) => o.verdict === 'failed');
  if (failed.length > 0) out.push('', 'failed:', ...failed.map((o) => `  ${describeOutcome(o)}`));
  const skipped = outcomes.filter((o) => o.verdict === 'skipped');
  if (skipped.length > 0) out.push('', 'skipped:', ...skipped.map((o) => `  ${describeOutcome(o)}`));
  const t = totals(outcomes);
  out.push('', `${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped`);
  return `${out.join('\n')}\n`;
}

export function reportJson(outcomes: readonly VectorOutcome[]): unknown {
  return {
    totals: totals(outcomes),
    profiles: countByProfile(outcomes),
    vectors: outcomes.map((o) => ({
      file: o.vector.key,
      profile: o.vector.profile,
      version: o.vector.version,
      verdict: o.verdict,
      ...(o.message === undefined ? {} : { message: o.message }),
      ...(o.reason === undefined ? {} : { reason: o.reason }),
      ...(o.difference === undefined ? {} : { difference: o.difference }),
      ...(o.serverSaid === undefined ? {} : { serverSaid: o.serverSaid }),
    })),
  };
}
