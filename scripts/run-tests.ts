/**
 * Runs every check of the project in order and ends with one plain summary line that CI reads:
 * "tests: N passed, N failed, N skipped". Static checks (types, lint, format) run first and count as one test
 * each; then the ava suite runs with its TAP reporter, whose counts are added.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const counts: Counts = { passed: 0, failed: 0, skipped: 0 };

function run(command: string, args: readonly string[], onLine?: (line: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      process.stdout.write(`${line}\n`);
      onLine?.(line);
    });
    child.on('close', (code) => {
      resolve(code ?? 1);
    });
  });
}

async function staticCheck(name: string, command: string, args: readonly string[]): Promise<void> {
  process.stdout.write(`\n== ${name}: ${command} ${args.join(' ')}\n`);
  const code = await run(command, args);
  if (code === 0) {
    counts.passed += 1;
    process.stdout.write(`ok - ${name}\n`);
  } else {
    counts.failed += 1;
    process.stdout.write(`not ok - ${name} (exit ${code})\n`);
  }
}

const bin = (name: string): string => `node_modules/.bin/${name}`;

await staticCheck('typecheck', bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
await staticCheck('lint', bin('eslint'), ['.']);
await staticCheck('format', bin('prettier'), ['--check', '--log-level', 'warn', '.']);

process.stdout.write('\n== ava\n');
const tap: Partial<Record<'pass' | 'fail' | 'skip' | 'todo', number>> = {};
const avaCode = await run(bin('ava'), ['--tap', ...process.argv.slice(2)], (line) => {
  const m = /^# (pass|fail|skip|todo) (\d+)$/.exec(line);
  if (m) tap[m[1] as 'pass' | 'fail' | 'skip' | 'todo'] = Number(m[2]);
});
counts.passed += tap.pass ?? 0;
counts.failed += tap.fail ?? 0;
counts.skipped += (tap.skip ?? 0) + (tap.todo ?? 0);
// ava exits non-zero for failures that TAP may not count (an uncaught exception, a timeout).
if (avaCode !== 0 && (tap.fail ?? 0) === 0) counts.failed += 1;
if ((tap.pass ?? 0) === 0) {
  process.stdout.write('ava ran no test\n');
  counts.failed += 1;
}

process.stdout.write(
  `\ntests: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`,
);
process.exitCode = counts.failed === 0 ? 0 : 1;
