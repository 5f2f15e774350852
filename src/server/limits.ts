/** Connection limits. Each comment says what the limit protects. */
export interface ServerLimits {
  /** Largest request accepted, header included: bounds the memory one connection can make the server hold. */
  readonly maxMessageBytes: number;
  /** Most batch items in one request: bounds the work one message can ask for. */
  readonly maxBatchCount: number;
  /** Time allowed for the TLS handshake: a peer that connects and says nothing must not hold a slot. */
  readonly handshakeTimeoutMs: number;
  /** Time a connection may stay silent between requests before it is closed. */
  readonly idleTimeoutMs: number;
  /** Concurrent connections: beyond this, new ones are refused (and logged) instead of starving the others. */
  readonly maxConnections: number;
  /** Requests read ahead of the one being served on a connection before reading pauses (back-pressure). */
  readonly maxQueuedRequests: number;
}

export const defaultLimits: ServerLimits = {
  maxMessageBytes: 1024 * 1024,
  maxBatchCount: 256,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxConnections: 1024,
  maxQueuedRequests: 16,
};
