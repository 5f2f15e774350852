/** Bytes <-> TTLV trees. Knows tags only as numbers; names come from an injected TagNamer. */
export * from './types.js';
export * from './errors.js';
export * from './limits.js';
export { decodeTtlv } from './decode.js';
export { encodeTtlv } from './encode.js';
export { TtlvFramer, type FramerOptions } from './framer.js';
export { toHex, parseHex, dumpTtlv } from './hex.js';
export type { TextNames, TextParseOptions } from './text-names.js';
export {
  readXmlDocument,
  xmlElementToTtlv,
  parseKmipXml,
  formatKmipXml,
  type XmlElement,
  type XmlDocument,
} from './xml.js';
export { formatKmipJson, parseKmipJson, readKmipJsonDocument, type KmipJsonItem } from './json.js';
