import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { OpsLogger } from '../kmip-ops/context.js';
import type { AuditEvent } from '../kmip-ops/dispatch.js';

/**
 * The two logs (DESIGN.md "Identity, access, audit"): the operational log (console, and DIR/logs/kmipd.log when a
 * data directory is given) and the audit trail (DIR/logs/audit.log, one JSON event per batch item, CADF-like
 * field names). Neither ever receives key material, passwords or PINs: callers pass identifiers only.
 */
export interface Loggers {
  readonly log: OpsLogger;
  readonly audit: (
    event: AuditEvent & { readonly client?: string; readonly certificateFingerprint?: string },
  ) => void;
  close(): Promise<void>;
}

/** How long an audit event may wait to be written with the next ones: the window an abrupt crash can lose. */
const AUDIT_FLUSH_MS = 10;
/** A batch this long is written at once. */
const AUDIT_BATCH_LINES = 256;

export function createLoggers(options: { dataDir?: string; level?: string; console?: boolean }): Loggers {
  const level = options.level ?? 'info';
  // winston declares its transports as classes merged with interfaces, which the type-aware lint cannot follow.
  /* eslint-disable @typescript-eslint/no-unsafe-class-instance-assignment */
  const transports: winston.transport[] = [];
  if (options.console !== false) {
    transports.push(
      new winston.transports.Console({
        stderrLevels: ['error', 'warn', 'info', 'debug'],
        format: winston.format.combine(
          winston.format.timestamp(),
          winston.format.printf(({ timestamp, level: lvl, message, ...rest }) => {
            const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
            return `${String(timestamp)} ${lvl} ${String(message)}${extra}`;
          }),
        ),
      }),
    );
  }
  const auditTransports: winston.transport[] = [];
  if (options.dataDir !== undefined) {
    const dir = join(options.dataDir, 'logs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    transports.push(
      new winston.transports.File({ filename: join(dir, 'kmipd.log'), format: winston.format.json() }),
    );
    auditTransports.push(new winston.transports.File({ filename: join(dir, 'audit.log') }));
  }
  /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
  const operational = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
    silent: transports.length === 0,
  });
  // The audit line is built here with JSON.stringify: one event per operation makes winston's generic json
  // format (safe-stable-stringify over the whole info object) a measurable share of a Get.
  const auditLogger = winston.createLogger({
    level: 'info',
    format: winston.format.printf((info) => String(info.message)),
    transports: auditTransports,
    silent: auditTransports.length === 0,
  });
  // Events are written in batches: winston's stream pipeline and the file write cost about as much as a Get per
  // call, and more on a machine whose thread sleeps between requests (measured: 50-90 µs a call, one request at
  // a time). A batch is written AUDIT_FLUSH_MS after its first event, or at once when it holds AUDIT_BATCH_LINES;
  // each event is still one JSON line of the file, and close() writes what is pending.
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const flushAudit = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return;
    auditLogger.info(pending.join('\n'));
    pending = [];
  };
  const queueAudit = (line: string): void => {
    pending.push(line);
    if (pending.length >= AUDIT_BATCH_LINES) flushAudit();
    else if (timer === undefined) {
      timer = setTimeout(flushAudit, AUDIT_FLUSH_MS);
      // A pending batch does not keep the process alive; close() writes it.
      timer.unref();
    }
  };
  return {
    log: {
      info: (message, fields) => operational.info(message, fields),
      warn: (message, fields) => operational.warn(message, fields),
      error: (message, fields) => operational.error(message, fields),
    },
    audit: (event) => {
      queueAudit(
        JSON.stringify({
          event: 'kmip.operation',
          eventTime: new Date().toISOString(),
          correlationId: event.correlationId,
          clientCorrelationValue: event.clientCorrelation,
          initiator: { id: event.principal, host: event.client, credential: event.certificateFingerprint },
          action: event.operation,
          target: { ids: event.objects },
          outcome: event.outcome,
          reason:
            event.reason === undefined ? undefined : { reasonCode: event.reason, message: event.message },
          kmipVersion: event.version,
        }),
      );
    },
    close: () => {
      flushAudit();
      return Promise.all(
        [operational, auditLogger].map(
          (logger) =>
            new Promise<void>((resolve) => {
              logger.on('finish', () => {
                resolve();
              });
              logger.end();
            }),
        ),
      ).then(() => undefined);
    },
  };
}
