/**
 * Two revisions of the server compared on this machine, in one run. Figures of this VM drift by tens of percent
 * within minutes (echo at 8 connections gave 55,280/s in one run of bench/server.ts and 29,746/s in the next), so a
 * change is judged here against its base measured in the same minutes: each revision is compiled into its own
 * dist/ tree, and the two are measured in turns (base, head, then head, base, ...), each turn a fresh process and
 * appliance on a temporary data directory (bench/support/compare-child.ts). Prints every turn, the medians, and
 * head over base; asserts nothing.
 *
 * Run: npm run bench:compare -- [--base REV] [--head REV] [--op get|discover|create|get-beside-rsa] [--c N]
 *      [--rounds N] [--seconds N] [--warmup N]
 * --base defaults to HEAD, --head to the working tree (uncommitted changes included).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { compareOps, type CompareOp, type CompareSample } from './support/compare-protocol.js';

const { values } = parseArgs({
  options: {
    base: { type: 'string', default: 'HEAD' },
    head: { type: 'string' },
    op: { type: 'string', default: 'get' },
    c: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    // A fresh process needs seconds of traffic before the JIT has compiled the request path: measured from 0.5 s,
    // two revisions that differ by a third came out equal.
    warmup: { type: 'string', default: '4' },
  },
});
function chosenOp(name: string): CompareOp {
  const known = compareOps.find((candidate) => candidate === name);
  if (known === undefined) throw new Error(`--op is one of ${compareOps.join(', ')}`);
  return known;
}
const op = chosenOp(values.op);
const connections = values.c;
const seconds = values.seconds;
const warmup = values.warmup;
const rounds = Number(values.rounds);
if (!(Number(values.c) > 0) || !(rounds > 0) || !(Number(values.seconds) > 0) || !(Number(warmup) >= 0))
  throw new Error('--c, --rounds, --seconds and --warmup take positive numbers');

const root = resolve(import.meta.dirname, '..');
// Inside node_modules, so that the compiled trees resolve this checkout's packages (pkcs11js, level, ...).
const work = join(root, 'node_modules', '.kmipd-compare');

/** Compiles a revision (or the working tree) into its own dist/ and returns that directory. */
function build(name: string, rev: string | undefined): string {
  const dir = join(work, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dist = join(dir, 'dist');
  const tsc = join(root, 'node_modules', '.bin', 'tsc');
  if (rev === undefined) {
    execFileSync(tsc, ['-p', join(root, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
    return dist;
  }
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  const archive = execFileSync(
    'git',
    ['-C', root, 'archive', rev, 'src', 'tsconfig.json', 'tsconfig.build.json'],
    {
      maxBuffer: 1 << 28,
    },
  );
  execFileSync('tar', ['-x', '-C', tree], { input: archive });
  execFileSync(tsc, ['-p', join(tree, 'tsconfig.build.json'), '--outDir', dist], { stdio: 'inherit' });
  return dist;
}

function measure(dist: string): Promise<CompareSample> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(root, 'bench', 'support', 'compare-child.ts'), dist, op, connections, seconds],
      // As bin/kmipd.js sets it for the server.
      { cwd: root, env: { ...process.env, UV_THREADPOOL_SIZE: '16' }, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code !== 0) reject(new Error(`the measurement exited with ${String(code)}: ${out}`));
      else resolvePromise(JSON.parse(line) as CompareSample);
    });
  });
}

const median = (xs: readonly number[]): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] ?? Number.NaN)
    : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const headLabel = values.head ?? 'working tree';
console.log(
  `kmipd compare: ${values.base} (base) against ${headLabel} (head); ${op} at ${values.c} connections, ` +
    `${rounds} rounds of ${seconds} s after ${warmup} s of warm-up; ${cpus().length} cores shared by client and server`,
);
const sides = [
  { name: 'base', label: values.base, dist: build('base', values.base), samples: [] as CompareSample[] },
  { name: 'head', label: headLabel, dist: build('head', values.head), samples: [] as CompareSample[] },
] as const;
for (let round = 0; round < rounds; round++) {
  // Turns alternate, so that a drift of the machine during the run weighs on both sides alike.
  for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
    const sample = await measure(side.dist);
    side.samples.push(sample);
    console.log(
      `  round ${round + 1} ${side.name}: ${fmt(sample.opsPerSecond)} ops/s, p50 ${fmt(sample.p50Ms, 2)} ms, ` +
        `p99 ${fmt(sample.p99Ms, 2)} ms, server thread ${fmt(sample.serverUsPerOp, 1)} µs a request` +
        (sample.failures > 0 ? `, ${sample.failures} FAILED` : ''),
    );
  }
}
const summary = sides.map((side) => ({
  ops: median(side.samples.map((s) => s.opsPerSecond)),
  p99: median(side.samples.map((s) => s.p99Ms)),
  us: median(side.samples.map((s) => s.serverUsPerOp)),
}));
for (const [i, side] of sides.entries()) {
  const s = summary[i];
  if (s === undefined) continue;
  console.log(
    `${side.name} (${side.label}) medians: ${fmt(s.ops)} ops/s, p99 ${fmt(s.p99, 2)} ms, ` +
      `server thread ${fmt(s.us, 1)} µs a request`,
  );
}
const [base, head] = summary;
if (base && head) {
  console.log(
    `head / base: ops/s ${fmt(head.ops / base.ops, 2)}x, server thread per request ${fmt(head.us / base.us, 2)}x, ` +
      `p99 ${fmt(head.p99 / base.p99, 2)}x`,
  );
}
rmSync(work, { recursive: true, force: true });
