/** What bench/compare.ts asks of bench/support/compare-child.ts, and the one JSON line the child answers. */
export const compareOps = ['get', 'discover', 'create', 'get-beside-rsa'] as const;
export type CompareOp = (typeof compareOps)[number];

export interface CompareSample {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU of the server's thread per answered request, in microseconds. */
  readonly serverUsPerOp: number;
  readonly failures: number;
}
