import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import winston from 'winston';
import type { OpsLogger } from '../kmip-ops/context.js';
import type { AuditEvent } from '../kmip-ops/dispatch.js';
import { AuditTrail } from './audit-trail.js';

/**
 * The two logs (DESIGN.md "Identity, access, audit"): the operational log (console, and DIR/logs/kmipd.log when a
 * data directory is given) and the audit trail (DIR/logs/audit.log through audit-trail.ts, one JSON event per batch
 * item, CADF-like field names). Neither ever receives key material, passwords or PINs: callers pass identifiers only.
 */
export interface Loggers {
  readonly log: OpsLogger;
  readonly audit: (event: AuditEvent) => void;
  close(): Promise<void>;
}

let lastMs = Number.NaN;
let lastIso = '';

/**
 * The time of an audit event in ISO 8601, made once per millisecond: `new Date().toISOString()` took 3% of the event
 * loop's time under load, and several events share each millisecond then.
 */
function eventTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

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
  if (options.dataDir !== undefined) {
    const dir = join(options.dataDir, 'logs');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    transports.push(
      new winston.transports.File({ filename: join(dir, 'kmipd.log'), format: winston.format.json() }),
    );
  }
  /* eslint-enable @typescript-eslint/no-unsafe-class-instance-assignment */
  const operational = winston.createLogger({
    level,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports,
    silent: transports.length === 0,
  });
  const auditPath = options.dataDir === undefined ? undefined : join(options.dataDir, 'logs', 'audit.log');
  const trail =
    auditPath === undefined
      ? undefined
      : new AuditTrail(auditPath, (error) => {
          operational.error('the audit trail cannot be written; requests go on without it', {
            file: auditPath,
            error: error.message,
          });
        });
  let closing: Promise<void> | undefined;
  return {
    log: {
      info: (message, fields) => operational.info(message, fields),
      warn: (message, fields) => operational.warn(message, fields),
      error: (message, fields) => operational.error(message, fields),
    },
    audit: (event) => {
      if (trail === undefined) return;
      // Built here with JSON.stringify: winston's generic json format (safe-stable-stringify over the whole info
      // object) was a measurable share of a Get.
      trail.write(
        JSON.stringify({
          event: 'kmip.operation',
          eventTime: eventTime(),
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
      // Once: a second end() of winston's logger never finishes again, so a second close() would never settle.
      closing ??= (async () => {
        await trail?.close();
        await new Promise<void>((resolve) => {
          operational.on('finish', () => {
            resolve();
          });
          operational.end();
        });
      })();
      return closing;
    },
  };
}
