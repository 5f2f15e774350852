/**
 * The skip list (conformance/skip-list.json): vectors that cannot pass for reasons that are not the server's
 * fault, or that need something not built yet, each with its one reason. Everything not listed runs.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface SkipEntry {
  /** A vector key (`profiles-v1.4/mandatory/TL-M-3-14.xml`) or a glob of them (`*` within a folder, `**` across). */
  readonly file: string;
  readonly reason: string;
}

export class SkipList {
  private readonly patterns: { entry: SkipEntry; pattern: RegExp }[];

  constructor(readonly entries: readonly SkipEntry[]) {
    this.patterns = entries.map((entry) => ({ entry, pattern: globPattern(entry.file) }));
  }

  /** The reason of the first entry naming this vector key. */
  reasonFor(key: string): string | undefined {
    return this.patterns.find(({ pattern }) => pattern.test(key))?.entry.reason;
  }
}

function globPattern(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (c === '*') source += '[^/]*';
    else if (c === '?') source += '[^/]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`);
}

/** Parses a skip list, refusing entries without a file or a reason (a skip must say why). */
export function parseSkipList(text: string, source: string): SkipList {
  const data: unknown = JSON.parse(text);
  const list = Array.isArray(data) ? data : (data as { skip?: unknown } | null)?.skip;
  if (!Array.isArray(list)) throw new Error(`${source}: expected a list of { file, reason } entries`);
  const entries = list.map((raw: unknown, index): SkipEntry => {
    const entry = raw as { file?: unknown; reason?: unknown } | null;
    if (typeof entry?.file !== 'string' || typeof entry.reason !== 'string' || entry.reason.trim() === '') {
      throw new Error(`${source}: entry ${index} needs a "file" and a non-empty "reason"`);
    }
    return { file: entry.file, reason: entry.reason };
  });
  return new SkipList(entries);
}

/** conformance/skip-list.json of this package (src/conformance and dist/conformance are both two levels down). */
export const defaultSkipListPath = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'conformance',
  'skip-list.json',
);

export async function loadSkipList(path = defaultSkipListPath): Promise<SkipList> {
  return parseSkipList(await readFile(path, 'utf8'), path);
}
