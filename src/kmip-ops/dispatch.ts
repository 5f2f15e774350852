import { randomUUID } from 'node:crypto';
import { encodeTtlv } from '../ttlv/encode.js';
import { ItemType, type TtlvItem } from '../ttlv/types.js';
import { checkTagsExist, FieldError, Fields } from '../kmip/fields.js';
import {
  answerVersion,
  BatchErrorContinuation,
  decodeRequestMessage,
  encodeResponseMessage,
  peekProtocolVersion,
  responsePayload,
  ResultStatus,
  type ProtocolVersion,
  type RequestHeader,
  type ResponseBatchItem,
} from '../kmip/message.js';
import { kmipVersions, registryFor, versionAtLeast, type KmipVersion } from '../kmip/registry.js';
import { enumName, enumValue, tag } from '../kmip/vocabulary.js';
import type { AnyHandler, Principal, RequestContext, RequestOrigin, Services } from './context.js';
import { checkOperationAllowed } from './access.js';
import { errors, KmipError, toKmipError } from './errors.js';
import { UndoConflict, UndoJournal } from './undo.js';
import { rightsAllow, TicketBook, type Right } from './tickets.js';
import { CertifyAuthority } from './certify-authority.js';
import { expandTemplateReferences, namesTemplates } from './template-objects.js';

/** One audit event per batch item (DESIGN.md "The path of one request"). */
export interface AuditEvent {
  readonly correlationId: string;
  readonly principal: string;
  /** The client's address and certificate fingerprint, when the request came over the network. */
  readonly client?: string | undefined;
  readonly certificateFingerprint?: string | undefined;
  /** The request's Client Correlation Value, logged as KMIP 2.1 §9.9 asks. */
  readonly clientCorrelation?: string | undefined;
  readonly operation: string;
  readonly version: KmipVersion;
  readonly objects: readonly string[];
  /** 'undone': the item succeeded, and was undone when a later item of its Undo batch failed. */
  readonly outcome: 'success' | 'failure' | 'undone';
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

/** A batch item's context while its operation runs: the dispatcher sets `access` once it knows the handler. */
type ItemContext = RequestContext & { access: RequestContext['access'] };

const ticketCredential = enumValue('CredentialType', 'Ticket');

/** The Ticket Value of a Credential of type Ticket in the request header, if there is one. */
function presentedTicket(header: RequestHeader): Uint8Array | undefined {
  const credential = header.credentials.find((c) => c.type === ticketCredential);
  if (credential === undefined) return undefined;
  const value = credential.value?.struct('Ticket')?.bytes('TicketValue');
  return value ?? new Uint8Array(0);
}

/**
 * Refuses an item its Delegated Login ticket's Rights do not allow (tickets.ts), before it runs: every object the
 * request names must be allowed for the operation, and a request that names none needs a Right without Objects
 * (KMIP 2.0 §6.1.12: the ticket holder "may only perform operations allowed by at least one of the contained Right
 * structures"). The ID placeholder is not taken for the object here: an operation that names none may make or find
 * others (Create, Locate). The objects an operation then loads, the placeholder's included, are checked again as
 * they are loaded (managed-object.ts loadObject).
 */
function checkRights(rights: readonly Right[], operation: string, payload: Fields | undefined): void {
  const named = (payload?.all('UniqueIdentifier') ?? []).flatMap((item) =>
    item.type === ItemType.TextString ? [item.value] : [],
  );
  const deny = (on: string): KmipError =>
    errors.permissionDenied(`the Rights of this Delegated Login ticket do not allow ${operation} on ${on}`);
  if (named.length === 0) {
    if (!rightsAllow(rights, operation, undefined)) throw deny('no named object');
    return;
  }
  const refused = named.find((uid) => !rightsAllow(rights, operation, uid));
  if (refused !== undefined) throw deny(refused);
}

/** Decides the principal of a request from its header (Credential), or throws a KmipError refusing it. */
export type Authenticator = (header: RequestHeader) => Promise<Principal>;

export interface DispatcherOptions {
  readonly handlers: readonly AnyHandler[];
  readonly services: Services;
  readonly audit?: (event: AuditEvent) => void;
}

const operationTag = tag('Operation');
const resultReasonTag = tag('ResultReason');

/**
 * The operation mux (kmip-go's OperationMux, STYLE.md): one table from Operation to handler, and the batch rules
 * of KMIP 1.4 §6.13-§6.15 — items run in order, the ID placeholder is shared by the items of one message only,
 * Batch Error Continuation Option Stop (the default), Continue, or Undo (undo.ts).
 */
export class Dispatcher {
  private readonly handlers = new Map<string, AnyHandler>();
  /** Login tickets of this server (tickets.ts), checked here for requests that present one. */
  private readonly tickets = new TicketBook();
  /** The issuing CA of Certify and Re-certify (certify-authority.ts), made on first use. */
  private readonly certifyAuthority: CertifyAuthority;

  constructor(private readonly options: DispatcherOptions) {
    // The server's store itself, never a batch's Undo journal: the CA outlives any batch.
    this.certifyAuthority = new CertifyAuthority(options.services.store);
    for (const handler of options.handlers) this.handlers.set(handler.operation, handler);
  }

  /** The response to a message that could not be decoded at all: Invalid Message, in KMIP 1.0 (any client reads it). */
  invalidMessage(reason: string): TtlvItem {
    const timeStamp = BigInt(Math.floor(this.options.services.now().getTime() / 1000));
    return this.failMessage({ major: 1, minor: 0 }, '1.0', timeStamp, errors.invalidMessage(reason));
  }

  /**
   * The answer to a request from a client refused before its request was read (a certificate problem found after
   * the TLS handshake): the error, in the request's version where it can be read.
   */
  refuse(message: TtlvItem, error: KmipError): TtlvItem {
    const timeStamp = BigInt(Math.floor(this.options.services.now().getTime() / 1000));
    const declared = peekProtocolVersion(message);
    const version = (declared && answerVersion(declared)) ?? '1.0';
    const [major, minor] = version.split('.').map(Number);
    return this.failMessage({ major: major ?? 1, minor: minor ?? 0 }, version, timeStamp, error);
  }

  /** Handles one decoded request message and returns the response message. Never throws. */
  async handle(
    message: TtlvItem,
    who: Principal | Authenticator,
    origin: RequestOrigin = {},
    maxBatchCount = Number.POSITIVE_INFINITY,
  ): Promise<TtlvItem> {
    const correlationId = randomUUID();
    const { services } = this.options;
    const timeStamp = BigInt(Math.floor(services.now().getTime() / 1000));
    const declared = peekProtocolVersion(message);
    const version = declared ? answerVersion(declared) : undefined;
    if (!declared || !version) {
      // Without a version we can speak, answer in the oldest one: every client reads a 1.0 response.
      const reason = declared
        ? `protocol version ${declared.major}.${declared.minor} is not supported; supported: ${kmipVersions.join(', ')}`
        : 'the message has no readable Request Header / Protocol Version';
      return this.failMessage({ major: 1, minor: 0 }, '1.0', timeStamp, errors.invalidMessage(reason));
    }
    const protocolVersion =
      registryFor(version).version === `${declared.major}.${declared.minor}`
        ? declared
        : { major: Number(version.split('.')[0]), minor: Number(version.split('.')[1]) };
    let request;
    try {
      checkTagsExist(message, version);
      request = decodeRequestMessage(message, version);
    } catch (error) {
      const { error: kmipError } = toKmipError(error);
      const invalid =
        error instanceof FieldError ? errors.invalidMessage(kmipError.message, error) : kmipError;
      return this.failMessage(protocolVersion, version, timeStamp, invalid);
    }
    const { header } = request;
    let principal: Principal;
    try {
      principal = typeof who === 'function' ? await who(header) : who;
    } catch (error) {
      // The authenticator names the refusal as a KmipError (Authentication Not Successful); anything else is ours.
      return this.failMessage(protocolVersion, version, timeStamp, toKmipError(error).error);
    }
    // KMIP 2.0 §2.1.2 Credential Type Ticket: a request may present a Login ticket, which must be its principal's.
    // A Login ticket is a credential: its spent Request Count refuses the whole message. An unknown or ended ticket
    // fails each item (TC-LOGIN-2/3), and so does a spent Delegated Login ticket, whose count limits what it grants
    // like its Rights do (TC-DLOGIN-1).
    let ticketRefusal: KmipError | undefined;
    let rights: readonly Right[] | undefined;
    const ticket = presentedTicket(header);
    if (ticket !== undefined) {
      const delegated = this.tickets.isDelegated(ticket);
      try {
        rights = this.tickets.use(ticket, principal.name);
      } catch (error) {
        const refusal = toKmipError(error).error;
        if (refusal.reason === 'UsageLimitExceeded' && !delegated) {
          return this.failMessage(protocolVersion, version, timeStamp, refusal);
        }
        ticketRefusal = refusal;
      }
    }
    if (request.items.length > maxBatchCount) {
      return this.failMessage(
        protocolVersion,
        version,
        timeStamp,
        errors.invalidMessage(
          `the request has ${request.items.length} batch items; this server takes at most ${maxBatchCount}`,
        ),
      );
    }
    const continuation = header.batchErrorContinuationOption ?? BatchErrorContinuation.Stop;
    const journal =
      continuation === BatchErrorContinuation.Undo ? new UndoJournal(services.store) : undefined;
    const idPlaceholder = { current: undefined as string | undefined };
    const results: ResponseBatchItem[] = [];
    const contexts: RequestContext[] = [];
    const itemOrigin: RequestOrigin =
      header.clientCorrelationValue === undefined
        ? origin
        : { ...origin, clientCorrelation: header.clientCorrelationValue };
    for (const item of request.items) {
      // Every field written, always in this order: one shape of context for every request, which the operations'
      // reads of it stay fast on (spreads of the services and optional parts gave several shapes, and building
      // them was a tenth of the event loop's time in a Get). `satisfies` names every field, optional ones too: a
      // field added to Services or RequestContext that is not passed on here fails to compile.
      const ctx: ItemContext = {
        store: journal ?? services.store,
        keys: services.keys,
        log: services.log,
        now: services.now,
        rng: services.rng,
        protectionStorage: services.protectionStorage,
        origin: itemOrigin,
        access: 'info',
        operation: enumName(version, operationTag, item.operation),
        version,
        principal,
        correlationId,
        idPlaceholder,
        tickets: this.tickets,
        rights,
        certifyAuthority: this.certifyAuthority,
        touched: [],
        undo: journal !== undefined,
      } satisfies { [K in keyof RequestContext]-?: RequestContext[K] };
      const result =
        ticketRefusal === undefined
          ? await this.runItem(item.operation, item.payload, item.path, ctx)
          : {
              operation: item.operation,
              uniqueBatchItemId: undefined,
              resultStatus: ResultStatus.OperationFailed,
              resultReason: ticketRefusal.reasonValue(version),
              resultMessage: ticketRefusal.message,
            };
      results.push({ ...result, uniqueBatchItemId: item.uniqueBatchItemId });
      contexts.push(ctx);
      if (result.resultStatus !== ResultStatus.Success && continuation !== BatchErrorContinuation.Continue) {
        if (journal) await this.undoBatch(journal, results, contexts);
        break;
      }
    }
    const headerFields = {
      protocolVersion,
      version,
      timeStamp,
      // KMIP 2.1 §9.9: for client-to-server operations the Client Correlation Value stays in the request (the
      // server logs it: see the audit trail). §9.10's Server Correlation Value is a SHOULD that this server does
      // not send: PyKMIP 0.10 cannot read a response header holding one (it expects Batch Count after Time Stamp).
    };
    const response = encodeResponseMessage(headerFields, results);
    const max = header.maximumResponseSize;
    if (max !== undefined && encodeTtlv(response).length > max) {
      // KMIP 1.4 §6.3: a response over the client's Maximum Response Size is replaced by Response Too Large.
      const tooLarge = errors.responseTooLarge(
        `the response exceeds the Maximum Response Size of ${max} bytes`,
      );
      return encodeResponseMessage(
        headerFields,
        results.map((r) => ({
          operation: r.operation,
          uniqueBatchItemId: r.uniqueBatchItemId,
          resultStatus: ResultStatus.OperationFailed,
          resultReason: tooLarge.reasonValue(version),
          resultMessage: tooLarge.message,
        })),
      );
    }
    return response;
  }

  private async runItem(
    operation: number,
    payload: TtlvItem | undefined,
    path: string,
    ctx: ItemContext,
  ): Promise<ResponseBatchItem> {
    const name = ctx.operation;
    const handler = this.handlers.get(name);
    try {
      if (!handler) throw errors.operationNotSupported(`operation ${name} is not supported by this server`);
      if (!versionAtLeast(ctx.version, handler.since)) {
        throw errors.operationNotSupported(`operation ${name} is not part of KMIP ${ctx.version}`);
      }
      checkOperationAllowed(ctx.principal, handler.access, name);
      ctx.access = handler.access;
      // KMIP 1.x templates named in a Template-Attribute become the attributes they hold (template-objects.ts).
      const expanded =
        payload !== undefined && namesTemplates(payload)
          ? await expandTemplateReferences(payload, ctx)
          : payload;
      const fields = expanded ? new Fields(expanded, ctx.version, `${path}/RequestPayload`) : undefined;
      if (ctx.rights !== undefined) checkRights(ctx.rights, name, fields);
      const request = handler.decodeRequest(fields, ctx);
      const response = await handler.execute(request, ctx);
      const out = handler.encodeResponse(response, ctx);
      this.audit(ctx, name, 'success');
      return {
        operation,
        uniqueBatchItemId: undefined,
        resultStatus: ResultStatus.Success,
        payload: responsePayload(out),
      };
    } catch (thrown) {
      const { error, internal } = toKmipError(thrown);
      if (internal) {
        ctx.log.error('operation failed', {
          correlationId: ctx.correlationId,
          operation: name,
          error: thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown),
        });
      }
      this.audit(ctx, name, 'failure', error);
      return {
        operation,
        uniqueBatchItemId: undefined,
        resultStatus: ResultStatus.OperationFailed,
        resultReason: error.reasonValue(ctx.version),
        resultMessage: error.message,
      };
    }
  }

  /**
   * An item of an Undo batch failed (the last of `results`): the items before it are undone (undo.ts) and answered
   * Operation Undone with their payloads (KMIP 1.4 §9.1.3.2.29, 2.1 Table 434). When the undo cannot be made
   * (another request changed one of the objects since), nothing is undone and each of those items is answered
   * General Failure saying so, rather than Undone.
   */
  private async undoBatch(
    journal: UndoJournal,
    results: ResponseBatchItem[],
    contexts: readonly RequestContext[],
  ): Promise<void> {
    const done = results.length - 1;
    let failure: KmipError | undefined;
    try {
      await journal.undo();
    } catch (thrown) {
      const cause = thrown instanceof UndoConflict ? thrown.message : 'the store failed';
      contexts[0]?.log.error('batch could not be undone', {
        correlationId: contexts[0].correlationId,
        error: thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown),
      });
      failure = errors.generalFailure(
        `a later item of this Undo batch failed and this one could not be undone: ${cause}`,
      );
    }
    for (let i = 0; i < done; i++) {
      const result = results[i];
      const ctx = contexts[i];
      if (!result || !ctx) continue;
      const name = enumName(ctx.version, operationTag, result.operation ?? 0);
      if (failure) {
        results[i] = {
          operation: result.operation,
          uniqueBatchItemId: result.uniqueBatchItemId,
          resultStatus: ResultStatus.OperationFailed,
          resultReason: failure.reasonValue(ctx.version),
          resultMessage: failure.message,
        };
        this.audit(ctx, name, 'failure', failure);
      } else {
        results[i] = { ...result, resultStatus: ResultStatus.OperationUndone };
        this.audit(ctx, name, 'undone');
      }
    }
  }

  private audit(
    ctx: RequestContext,
    operation: string,
    outcome: AuditEvent['outcome'],
    error?: KmipError,
  ): void {
    const { origin, touched } = ctx;
    this.options.audit?.({
      client: origin.client,
      certificateFingerprint: origin.certificateFingerprint,
      clientCorrelation: origin.clientCorrelation,
      correlationId: ctx.correlationId,
      principal: ctx.principal.name,
      operation,
      version: ctx.version,
      objects: touched.length < 2 ? touched : [...new Set(touched)],
      outcome,
      reason: error && enumName(ctx.version, resultReasonTag, error.reasonValue(ctx.version)),
      message: error?.message,
    });
  }

  private failMessage(
    protocolVersion: ProtocolVersion,
    version: KmipVersion,
    timeStamp: bigint,
    error: KmipError,
  ): TtlvItem {
    return encodeResponseMessage({ protocolVersion, version, timeStamp }, [
      {
        operation: undefined,
        uniqueBatchItemId: undefined,
        resultStatus: ResultStatus.OperationFailed,
        resultReason: error.reasonValue(version),
        resultMessage: error.message,
      },
    ]);
  }
}
