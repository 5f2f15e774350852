import type { Right, TicketBook } from './tickets.js';
import type { CertifyAuthority } from './certify-authority.js';
import type { TtlvItem } from '../ttlv/types.js';
import type { Fields } from '../kmip/fields.js';
import type { KmipVersion } from '../kmip/registry.js';
import type { ObjectStore } from '../store/store.js';
import type { Access, Principal } from './access.js';
import type { KeyService } from './keys.js';

/** The operational log, as the operations use it: structured fields, never key material. */
export interface OpsLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The random number generator behind the keys the server makes, as far as the wiring knows it: a CTR_DRBG over a
 * block cipher (NIST SP 800-90A) with its key length. Query RNGs (KMIP 1.4 §2.1.18, §4.25) describes it.
 */
export interface RngDescription {
  readonly kind: 'ctr-drbg';
  readonly cipher: 'AES';
  readonly keyBits: 128 | 192 | 256;
}

/** The services a request reaches, handed in per request (no globals, DESIGN.md "The path of one request"). */
export interface Services {
  readonly store: ObjectStore;
  readonly keys: KeyService;
  readonly log: OpsLogger;
  readonly now: () => Date;
  /** The token's generator when the wiring knows it; absent, Query says Unspecified (KMIP 1.4 §4.25). */
  readonly rng?: RngDescription | undefined;
  /**
   * Where the token keeps key material, for the Protection Storage Mask of every object (KMIP 2.1 §4.44, §12.2):
   * Hardware when its slot is a hardware device, else Software; absent (the in-memory test token) means Software.
   */
  readonly protectionStorage?: 'Software' | 'Hardware' | undefined;
}

/** Where a request came from, for the audit trail. */
export interface RequestOrigin {
  readonly client?: string;
  readonly certificateFingerprint?: string;
  /** The request's Client Correlation Value, which the server logs (KMIP 2.1 §9.9). */
  readonly clientCorrelation?: string;
}

/** One request's context. The ID placeholder belongs to one message (KMIP 1.4 §3.1 / 2.1 §4.52, "ID Placeholder"). */
export type { Principal } from './access.js';

export interface RequestContext extends Services {
  readonly version: KmipVersion;
  readonly principal: Principal;
  readonly origin: RequestOrigin;
  /** What the operation being run does (its handler's `access`), for the object-level check in loadObject. */
  readonly access: Access;
  /** The operation being run, by its KMIP XML name ("Get"), for the Rights check in loadObject. */
  readonly operation: string;
  readonly correlationId: string;
  readonly idPlaceholder: { current: string | undefined };
  /** The server's Login tickets (tickets.ts): Login issues them, Logout ends them. */
  readonly tickets: TicketBook;
  /** The Rights of the Delegated Login ticket the request presented; undefined when it presented none of those. */
  readonly rights: readonly Right[] | undefined;
  /** The server's issuing CA for Certify and Re-certify (certify-authority.ts). */
  readonly certifyAuthority: CertifyAuthority;
  /** UIDs the current batch item touched, for the audit trail. */
  readonly touched: string[];
  /**
   * The message asked for Batch Error Continuation Option Undo (undo.ts): an operation whose effect lies outside
   * the store, which the batch could not take back, refuses to run.
   */
  readonly undo?: boolean;
}

/**
 * One operation (STYLE.md: one file per operation): how its request payload is read, what it does, and how its
 * response payload is written, in the request's version.
 */
export interface OperationHandler<Request, Response> {
  /** The Operation enumeration name ("Register"). */
  readonly operation: string;
  /** The first KMIP version that defines the operation. */
  readonly since: KmipVersion;
  /** What it does, for the role check (src/kmip-ops/access.ts). */
  readonly access: Access;
  decodeRequest(payload: Fields | undefined, ctx: RequestContext): Request;
  execute(request: Request, ctx: RequestContext): Promise<Response>;
  encodeResponse(response: Response, ctx: RequestContext): TtlvItem[];
}

/** A handler of any request and response type, as the dispatcher holds them. */
export type AnyHandler = OperationHandler<unknown, unknown>;

/** Erases a handler's request/response types for the dispatcher's table (they stay paired inside the handler). */
export function handler<Request, Response>(h: OperationHandler<Request, Response>): AnyHandler {
  return h;
}
