/**
 * Writes the constructed golden vectors (test/support/constructed-vectors.ts) to test/vectors as NAME.ttlv and
 * NAME.json. Run with `npx tsx test/support/write-vectors.ts`; the spec-* vectors are hand-copied and not touched.
 */
import { writeFileSync } from 'node:fs';
import { constructedVectors } from './constructed-vectors.js';
import { vectorFileText } from './ttlv-builder.js';
import { vectorsDir } from './vectors.js';

for (const { name, title, built } of constructedVectors) {
  writeFileSync(`${vectorsDir}${name}.ttlv`, vectorFileText(built, title));
  writeFileSync(`${vectorsDir}${name}.json`, `${JSON.stringify(built.json, null, 2)}\n`);
}
console.log(`wrote ${constructedVectors.length} vectors to ${vectorsDir}`);
