/** Limits that protect the decoder from hostile input. */
export interface DecodeLimits {
  /**
   * Deepest Structure nesting accepted. KMIP messages nest about 8 deep (message / batch item / payload / object /
   * key block / key value / key material / structure); 32 leaves room for extensions while bounding the recursion
   * an attacker can force.
   */
  readonly maxDepth: number;
  /** Longest whole input accepted, so a claimed length can never make us allocate or wait for more. */
  readonly maxBytes: number;
}

export const defaultDecodeLimits: DecodeLimits = {
  maxDepth: 32,
  maxBytes: 16 * 1024 * 1024,
};
