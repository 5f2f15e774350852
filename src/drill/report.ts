/**
 * The drill report: a table for people (drill | strict server should | this server did | client saw), JSON for
 * machines, and the exit status.
 */
import type { ClientError, Outcome, TlsAlert, Verdict } from './outcome.js';
import type { DrillReport, DrillResult } from './run.js';

/** The "this server did" and "client saw" columns of one outcome. */
export function describeOutcome(outcome: Outcome): { did: string; saw: string } {
  switch (outcome.kind) {
    case 'accepted':
      return {
        did: 'accepted (Query succeeded)',
        saw: `no error (${outcome.protocol}; ${outcome.operations} operations listed)`,
      };
    case 'kmip-refused': {
      const reason = outcome.reason ?? `no Result Reason (Result Status ${outcome.status})`;
      const closed =
        outcome.closed === true
          ? ', then closed the connection'
          : outcome.closed === false
            ? ', and left the connection open'
            : '';
      return {
        did: `refused with KMIP Result Reason ${reason}: ${outcome.message ?? '(no Result Message)'}${closed}`,
        saw: `Result Status ${outcome.status}${outcome.reason ? `, Result Reason ${outcome.reason}` : ''} (${outcome.protocol})`,
      };
    }
    case 'tls-refused': {
      const how = outcome.alert ? `alert ${alertText(outcome.alert)}` : 'connection closed without an alert';
      const when =
        outcome.phase === 'after-handshake'
          ? ` (after the client's side of the ${outcome.protocol ?? 'TLS'} handshake completed: the server checks the client certificate last)`
          : '';
      return { did: `refused in the TLS handshake: ${how}${when}`, saw: errorText(outcome.error) };
    }
    case 'closed':
      return {
        did: `connection closed after the handshake without a response (${outcome.protocol})`,
        saw: outcome.error ? errorText(outcome.error) : 'end of stream, no TLS alert',
      };
    case 'timed-out': {
      const waiting = {
        connect: 'for the TCP connection',
        handshake: 'in the TLS handshake',
        response: 'waiting for the KMIP response',
      }[outcome.phase];
      return { did: `timed out ${waiting}`, saw: `nothing within ${outcome.ms} ms` };
    }
    case 'bad-response':
      return {
        did: `answered with something the drill cannot read (${outcome.protocol})`,
        saw: outcome.error,
      };
    case 'client-error':
      return { did: `not tested: ${outcome.what}`, saw: errorText(outcome.error) };
    case 'skipped':
      return { did: `skipped: ${outcome.reason}`, saw: '-' };
  }
}

function alertText(alert: TlsAlert): string {
  return `${alert.number} ${alert.name}`;
}

function errorText(error: ClientError | undefined): string {
  if (!error) return '-';
  return error.code === undefined || error.code === error.message
    ? error.message
    : `${error.code}: ${error.message}`;
}

const verdictText: Record<Verdict, string> = {
  'as-expected': 'yes',
  'not-as-expected': 'NO',
  skipped: 'skipped',
};

export function summaryLine(report: DrillReport): string {
  return `${report.asExpected} drills as expected, ${report.notAsExpected} not, ${report.skipped} skipped`;
}

/** The table, in Markdown's pipe form (readable as it is, and pastes into an issue), and the summary line. */
export function formatTable(report: DrillReport): string {
  const header = ['drill', 'strict server should', 'this server did', 'client saw', 'as expected'];
  const rows = report.results.map((result) => {
    const { did, saw } = describeOutcome(result.outcome);
    return [result.drill.title, result.drill.strict, did, saw, verdictText[result.verdict]].map(cell);
  });
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]): string =>
    `| ${cells.map((text, column) => text.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  const target = `KMIP server ${report.target.host}:${report.target.port} (server name ${report.target.serverName})`;
  return [target, '', line(header), rule, ...rows.map(line), '', summaryLine(report)].join('\n') + '\n';
}

/** A table cell: one line, and no pipe that would split it. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

export interface DrillJson {
  readonly target: DrillReport['target'];
  readonly drills: readonly {
    readonly name: string;
    readonly title: string;
    readonly expect: string;
    readonly strict: string;
    readonly verdict: Verdict;
    readonly did: string;
    readonly saw: string;
    readonly outcome: Outcome;
  }[];
  readonly asExpected: number;
  readonly notAsExpected: number;
  readonly skipped: number;
}

export function reportJson(report: DrillReport): DrillJson {
  return {
    target: report.target,
    drills: report.results.map((result: DrillResult) => ({
      name: result.drill.name,
      title: result.drill.title,
      expect: result.drill.expect,
      strict: result.drill.strict,
      verdict: result.verdict,
      ...describeOutcome(result.outcome),
      outcome: result.outcome,
    })),
    asExpected: report.asExpected,
    notAsExpected: report.notAsExpected,
    skipped: report.skipped,
  };
}

/** 1 when any drill did not go as a strict server would have it, else 0 (skipped drills do not count). */
export function exitStatus(report: DrillReport): number {
  return report.notAsExpected > 0 ? 1 : 0;
}
