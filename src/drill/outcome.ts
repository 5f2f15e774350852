/**
 * What happened in one drill, as the client saw it, and whether that is what a strict server does.
 */
import type { Expectation } from './drills.js';

/** A TLS alert the peer sent (RFC 8446 §6, RFC 5246 §7.2): its number and its name in the RFC. */
export interface TlsAlert {
  readonly number: number;
  readonly name: string;
}

/** The error node:tls raised, as the client saw it. */
export interface ClientError {
  /** `error.code`, e.g. ERR_SSL_TLSV1_ALERT_UNKNOWN_CA or ECONNRESET; undefined when node gave none. */
  readonly code: string | undefined;
  readonly message: string;
}

export type Outcome =
  /** The Query came back with Result Status Success. */
  | { readonly kind: 'accepted'; readonly protocol: string; readonly operations: number }
  /** A KMIP response whose batch item did not succeed. */
  | {
      readonly kind: 'kmip-refused';
      readonly protocol: string;
      readonly status: string;
      readonly reason: string | undefined;
      readonly message: string | undefined;
      /** Whether the server closed the connection after answering (undefined: not waited for). */
      readonly closed: boolean | undefined;
    }
  /**
   * The TLS layer refused: during the handshake, or (TLS 1.3, where the client's handshake completes before the
   * server has checked the client's certificate, RFC 8446 §4.4.2.4) by an alert on the first read after it.
   * `alert` is undefined when the server just closed the connection.
   */
  | {
      readonly kind: 'tls-refused';
      readonly phase: 'handshake' | 'after-handshake';
      readonly alert: TlsAlert | undefined;
      readonly error: ClientError | undefined;
      readonly protocol: string | undefined;
    }
  /** The handshake completed, then the connection ended (cleanly or by a reset) without a response. */
  | { readonly kind: 'closed'; readonly protocol: string; readonly error: ClientError | undefined }
  | { readonly kind: 'timed-out'; readonly phase: 'connect' | 'handshake' | 'response'; readonly ms: number }
  /** Bytes came back, but not a KMIP response this drill can read. */
  | { readonly kind: 'bad-response'; readonly protocol: string; readonly error: string }
  /** The drill could not test the server: no TCP connection, or the server's own certificate did not verify. */
  | { readonly kind: 'client-error'; readonly what: string; readonly error: ClientError }
  | { readonly kind: 'skipped'; readonly reason: string };

export type Verdict = 'as-expected' | 'not-as-expected' | 'skipped';

const AUTHENTICATION_NOT_SUCCESSFUL = 'AuthenticationNotSuccessful';

/** Whether `outcome` is what a strict server does for `expect` (see Expectation). */
export function verdictOf(expect: Expectation, outcome: Outcome): Verdict {
  if (outcome.kind === 'skipped') return 'skipped';
  return meets(expect, outcome) ? 'as-expected' : 'not-as-expected';
}

function meets(expect: Expectation, outcome: Outcome): boolean {
  switch (expect) {
    case 'accepted':
      return outcome.kind === 'accepted';
    case 'refused':
      return (
        outcome.kind === 'tls-refused' ||
        outcome.kind === 'closed' ||
        (outcome.kind === 'kmip-refused' &&
          outcome.reason === AUTHENTICATION_NOT_SUCCESSFUL &&
          outcome.closed === true)
      );
    case 'refused-in-handshake':
      return outcome.kind === 'tls-refused' && outcome.phase === 'handshake';
    case 'refused-authentication':
      return outcome.kind === 'kmip-refused' && outcome.reason === AUTHENTICATION_NOT_SUCCESSFUL;
  }
}
