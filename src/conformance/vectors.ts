/**
 * Vector files: finding them under the paths given, and what a file's name and folder say about it (profile,
 * KMIP version, the key a skip list names it by).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';

export interface VectorFile {
  readonly path: string;
  /** The path from the collection folder on (`profiles-v1.4/mandatory/BL-M-1-14.xml`), or the file name. */
  readonly key: string;
  /** The file name's prefix before `-M-` / `-O-` (BL, CS-BC, MSGENC-JSON ...), or TC-NAME for test cases. */
  readonly profile: string;
  /** The KMIP version: the file name's suffix (-14 = 1.4), else the folder's. */
  readonly version: string;
}

const collectionPattern = /^(?:profiles|testcases)-v\d+\.\d+$/;

export function describeVector(path: string): VectorFile {
  const parts = resolve(path).split(sep);
  const from = parts.findIndex((part) => collectionPattern.test(part));
  const key = from === -1 ? basename(path) : parts.slice(from).join('/');
  const stem = basename(path).replace(/\.xml$/i, '');
  const marker = /^(.*?)-[MO]-/.exec(stem);
  const profile = marker?.[1] ?? stem.replace(/-\d+-\d+$/, '');
  const suffix = /-(\d)(\d)$/.exec(stem);
  const folderVersion = from === -1 ? undefined : /v(\d+\.\d+)$/.exec(parts[from] ?? '')?.[1];
  const version = suffix ? `${suffix[1] ?? ''}.${suffix[2] ?? ''}` : (folderVersion ?? '?');
  return { path, key, profile, version };
}

/** Every .xml file under the given files and folders, folders walked in natural order (BL-M-2 before BL-M-10). */
export async function findVectorFiles(paths: readonly string[]): Promise<VectorFile[]> {
  const found: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await stat(path);
    if (!info.isDirectory()) {
      found.push(path);
      return;
    }
    const entries = (await readdir(path)).sort(naturalOrder);
    for (const entry of entries) {
      const child = join(path, entry);
      if ((await stat(child)).isDirectory() || entry.toLowerCase().endsWith('.xml')) await walk(child);
    }
  };
  for (const path of paths) await walk(path);
  return found.map(describeVector);
}

export function naturalOrder(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
