/**
 * Loads the golden vectors in test/vectors: NAME.ttlv (pipe-annotated hex, '#' comments) with NAME.json beside it.
 * The hex is read here, not with src/ttlv/hex.ts, so a parseHex bug cannot hide inside every golden test; hex.test.ts
 * checks that parseHex agrees with this reader on every file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseJsonItem, type JsonItem } from './tree-json.js';

export const vectorsDir = fileURLToPath(new URL('../vectors/', import.meta.url));

export interface Vector {
  readonly name: string;
  /** The .ttlv file's text. */
  readonly text: string;
  readonly bytes: Uint8Array;
  readonly json: JsonItem;
  /** A whole KMIP message (file name starts with "msg-"): the framer tests use these. */
  readonly message: boolean;
}

/** Hex digits of annotated text: drops '#' comments, then whitespace and '|'; anything else is an error. */
export function readAnnotatedHex(text: string): Uint8Array {
  const digits = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join('')
    .replace(/[\s|]+/g, '');
  if (!/^(?:[0-9A-Fa-f]{2})*$/.test(digits)) throw new Error(`not an even run of hex digits: ${digits}`);
  return Uint8Array.from(digits.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
}

export function loadVectors(): Vector[] {
  const names = readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.ttlv'))
    .map((f) => f.slice(0, -'.ttlv'.length))
    .sort();
  return names.map((name) => {
    const text = readFileSync(`${vectorsDir}${name}.ttlv`, 'utf8');
    const json = parseJsonItem(JSON.parse(readFileSync(`${vectorsDir}${name}.json`, 'utf8')) as unknown);
    return { name, text, bytes: readAnnotatedHex(text), json, message: name.startsWith('msg-') };
  });
}
