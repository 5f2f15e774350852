/**
 * A PKCS#12 container (RFC 7292) holding one private key and its certificate chain, protected by a password: what
 * KMIP's Get with Key Format Type PKCS#12 answers (KMIP 1.4 §4.11). The layout is the one OpenSSL 3 writes by
 * default, so that `openssl pkcs12`, Python's cryptography, Java's keytool and browsers read it:
 * - the key in a PKCS#8 Shrouded Key Bag (RFC 7292 §4.2.2): PBES2 with PBKDF2-HMAC-SHA256 and AES-256-CBC,
 *   encrypted by node:crypto's own PKCS#8 export;
 * - the certificates, leaf first, in Cert Bags (§4.2.3) in a plain Data content: certificates are public;
 * - the leaf certificate and the key share a Local Key ID (PKCS#9 §5.5.5) and the Friendly Name;
 * - the whole is integrity-protected by an HMAC-SHA256 MAC keyed by the PKCS#12 key derivation (§B.2, ID 3) from
 *   the password as a BMPString.
 * The encoder writes DER with the TLV helpers of src/hsm/der.ts (the structures are few and fixed, and this keeps
 * the module free of ASN.1 schema libraries); the reader takes its TLV headers from the same file's readTlv.
 */
import {
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  pbkdf2Sync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { HsmError } from '../hsm/hsm.js';
import {
  readTlv,
  TAG_INTEGER,
  TAG_NULL,
  TAG_OCTET_STRING,
  TAG_OID,
  TAG_SEQUENCE,
  tlv,
  unsignedInteger,
  type Tlv,
} from '../hsm/der.js';

/** The password-based parameters; RFC 7292 and NIST SP 800-132 ask for a large count. */
const ITERATIONS = 2048;
const SALT_BYTES = 16;

const OID = {
  data: '1.2.840.113549.1.7.1',
  pkcs8ShroudedKeyBag: '1.2.840.113549.1.12.10.1.2',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509Certificate: '1.2.840.113549.1.9.22.1',
  friendlyName: '1.2.840.113549.1.9.20',
  localKeyId: '1.2.840.113549.1.9.21',
  sha256: '2.16.840.1.101.3.4.2.1',
} as const;

export interface Pkcs12Contents {
  /** The private key, as PKCS#8 DER (PrivateKeyInfo, unencrypted). */
  readonly privateKeyPkcs8: Uint8Array;
  /** The certificates as DER, the key's own first, then each issuer's. */
  readonly certificates: readonly Uint8Array[];
  /** The password, as the client gave it (UTF-8 text). */
  readonly password: Uint8Array;
  /** The alias under which the key and its chain are found (KMIP 1.4 §3.45: "alias" when none is set). */
  readonly friendlyName: string;
  /** The MAC key derivation's iterations; 2048, OpenSSL's, unless given. */
  readonly macIterations?: number;
}

export function encodePkcs12(contents: Pkcs12Contents): Uint8Array {
  const password = Buffer.from(contents.password).toString('utf8');
  // The Local Key ID ties the key to its certificate (a hash of the certificate, as OpenSSL makes it); a key alone
  // gets random bytes, never a hash of itself, which would sit in clear beside it.
  const leaf = contents.certificates[0];
  const keyId = leaf === undefined ? randomBytes(20) : createHash('sha1').update(leaf).digest();
  const bagAttributes = set([
    sequence([oid(OID.friendlyName), set([bmpString(contents.friendlyName)])]),
    sequence([oid(OID.localKeyId), set([octetString(keyId)])]),
  ]);
  // Encrypted with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC) by OpenSSL through node:crypto.
  const shroudedKey = createPrivateKey({
    key: Buffer.from(contents.privateKeyPkcs8),
    format: 'der',
    type: 'pkcs8',
  }).export({ format: 'der', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase: password });
  const keyBag = sequence([oid(OID.pkcs8ShroudedKeyBag), explicit(0, raw(shroudedKey)), bagAttributes]);
  const certBags = contents.certificates.map((der, i) =>
    sequence([
      oid(OID.certBag),
      explicit(0, sequence([oid(OID.x509Certificate), explicit(0, octetString(der))])),
      ...(i === 0 ? [bagAttributes] : []),
    ]),
  );
  const dataContent = (safeContents: Uint8Array): Uint8Array =>
    sequence([oid(OID.data), explicit(0, octetString(safeContents))]);
  const authenticatedSafe = sequence([dataContent(sequence(certBags)), dataContent(sequence([keyBag]))]);

  // RFC 7292 §5.1: the MAC covers the authenticated safe's octets.
  const macSalt = randomBytes(SALT_BYTES);
  const macIterations = contents.macIterations ?? ITERATIONS;
  const macKey = pkcs12Kdf(password, macSalt, 3, macIterations, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  macKey.fill(0);
  const macData = sequence([
    sequence([sequence([oid(OID.sha256), nullValue()]), octetString(mac)]),
    octetString(macSalt),
    integer(macIterations),
  ]);
  return sequence([integer(3), dataContent(authenticatedSafe), macData]);
}

/** Output and block sizes (u, v) of the hashes the PKCS#12 key derivation is used with (RFC 7292 §B.2). */
const kdfHashes: Readonly<Record<string, readonly [number, number]>> = {
  sha1: [20, 64],
  sha224: [28, 64],
  sha256: [32, 64],
  sha384: [48, 128],
  sha512: [64, 128],
};

/**
 * The PKCS#12 key derivation (RFC 7292 Appendix B.2): ID 1 makes a cipher key, 2 an IV, 3 a MAC key. The password
 * is a BMPString with its two-byte terminator (§B.1).
 */
export function pkcs12Kdf(
  password: string,
  salt: Uint8Array,
  id: number,
  iterations: number,
  size: number,
  hash = 'sha256',
): Buffer {
  const sizes = kdfHashes[hash];
  if (sizes === undefined)
    throw new Pkcs12Error(`the PKCS#12 key derivation is not defined here for ${hash}`);
  const [u, v] = sizes;
  const pass = Buffer.concat([Buffer.from(password, 'utf16le').swap16(), Buffer.alloc(2)]);
  const fill = (input: Uint8Array): Buffer => {
    const length = input.length === 0 ? 0 : v * Math.ceil(input.length / v);
    const out = Buffer.alloc(length);
    for (let i = 0; i < length; i++) out[i] = input[i % input.length] ?? 0;
    return out;
  };
  const d = Buffer.alloc(v, id);
  const i = Buffer.concat([fill(salt), fill(pass)]);
  pass.fill(0);
  const blocks: Buffer[] = [];
  for (let produced = 0; produced < size; produced += u) {
    let a = createHash(hash).update(d).update(i).digest();
    for (let round = 1; round < iterations; round++) a = createHash(hash).update(a).digest();
    blocks.push(a);
    // I_j = (I_j + B + 1) mod 2^(v*8) for each v-byte block of I, where B is A repeated to v bytes.
    const b = fill(a);
    for (let j = 0; j < i.length; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = (i[j + k] ?? 0) + (b[k] ?? 0) + carry;
        i[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  i.fill(0);
  const joined = Buffer.concat(blocks);
  const out = Buffer.from(joined.subarray(0, size));
  joined.fill(0);
  for (const block of blocks) block.fill(0);
  return out;
}

// --- DER (X.690 §10) writing, only the types a PFX needs, over the DER helpers of src/hsm/der.ts. ---

const raw = (der: Uint8Array): Uint8Array => der;
const sequence = (items: readonly Uint8Array[]): Uint8Array => tlv(TAG_SEQUENCE, ...items);
/** A SET OF in DER order (X.690 §11.6: the encodings sorted as octet strings). */
const set = (items: readonly Uint8Array[]): Uint8Array =>
  tlv(0x31, ...[...items].sort((a, b) => Buffer.compare(a, b)));
const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 + n, inner);
const octetString = (bytes: Uint8Array): Uint8Array => tlv(TAG_OCTET_STRING, bytes);
const nullValue = (): Uint8Array => tlv(TAG_NULL);
const bmpString = (text: string): Uint8Array => tlv(0x1e, Buffer.from(text, 'utf16le').swap16());

function integer(value: number): Uint8Array {
  const magnitude: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) magnitude.unshift(rest & 0xff);
  return unsignedInteger(Uint8Array.from(magnitude));
}

function oid(dotted: string): Uint8Array {
  const [first = 0, second = 0, ...rest] = dotted.split('.').map(Number);
  const out: number[] = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value & 0x7f);
      if (value < 128) break;
    }
    for (let g = 0; g < groups.length - 1; g++) groups[g] = (groups[g] ?? 0) | 0x80;
    out.push(...groups);
  }
  return tlv(TAG_OID, Buffer.from(out));
}

// --- Reading a container (Register of a PKCS#12 private key, KMIP 1.4 §3.45). ---

/** Why a container could not be read: damaged, another password, or an algorithm this reader does not take. */
export class Pkcs12Error extends Error {
  override readonly name = 'Pkcs12Error';
}

export interface Pkcs12Bag {
  /** PKCS#8 PrivateKeyInfo (decrypted) for a key, the certificate's DER for a certificate. */
  readonly der: Uint8Array;
  readonly friendlyName: string | undefined;
  readonly localKeyId: string | undefined;
}

export interface Pkcs12Read {
  readonly keys: readonly Pkcs12Bag[];
  readonly certificates: readonly Pkcs12Bag[];
}

const READ_OID = {
  ...OID,
  encryptedData: '1.2.840.113549.1.7.6',
  keyBag: '1.2.840.113549.1.12.10.1.1',
  pbeSha1TripleDes: '1.2.840.113549.1.12.1.3',
  pbeSha1TwoKeyTripleDes: '1.2.840.113549.1.12.1.4',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
} as const;

/**
 * What reading one container may compute. The derivations run on the event loop, so a container asking for
 * billions of iterations, or holding thousands of encrypted bags, would stop the server. OpenSSL writes 2048
 * iterations, Java's keytool 10,000, and OWASP advises up to 600,000 for PBKDF2-SHA256: each derivation may ask for
 * that much, and all of a container's derivations together for a few times more (measured on this machine: 300,000
 * PKCS#12 KDF hash blocks take about 0.45 s, 1,200,000 PBKDF2 iterations about 0.3 s). Beyond, the container is
 * refused, not computed.
 */
const MAX_KDF_ITERATIONS = 100_000;
const MAX_PBKDF2_ITERATIONS = 600_000;
const KDF_BLOCK_BUDGET = 300_000;
const PBKDF2_BUDGET = 1_200_000;
/** Bags one container may hold: a key, its chain, and room for what tools add. */
const MAX_BAGS = 64;

class Budget {
  kdfBlocks = KDF_BLOCK_BUDGET;
  pbkdf2 = PBKDF2_BUDGET;
  bags = MAX_BAGS;

  spendKdf(iterations: number, blocks: number): void {
    this.kdfBlocks -= iterations * blocks;
    if (this.kdfBlocks < 0)
      throw new Pkcs12Error('the container asks for more key derivation than this server computes');
  }

  spendPbkdf2(iterations: number, blocks: number): void {
    this.pbkdf2 -= iterations * blocks;
    if (this.pbkdf2 < 0)
      throw new Pkcs12Error('the container asks for more key derivation than this server computes');
  }

  spendBag(): void {
    this.bags -= 1;
    if (this.bags < 0) throw new Pkcs12Error(`the container holds more than ${MAX_BAGS} bags`);
  }
}

function iterationsWithin(n: Node, buf: Uint8Array, limit: number): number {
  const iterations = intValue(n, buf);
  if (iterations < 1 || iterations > limit) {
    throw new Pkcs12Error(
      `the container asks for ${iterations} iterations; this server computes 1 to ${limit}`,
    );
  }
  return iterations;
}

const macHashes: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const prfHashes: Readonly<Record<string, string>> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const aesCbc: Readonly<Record<string, string>> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
};

/**
 * Reads a PKCS#12 container with its password: checks its MAC when it has one (any SHA-1/SHA-2 MAC of RFC 7292
 * §5.1), opens plain and password-encrypted contents (PBES2 with PBKDF2 and AES-CBC, as OpenSSL 3 writes; the
 * legacy pbeWithSHAAnd3-KeyTripleDES-CBC, as older tools and the KMIP test cases write), and answers its key and
 * certificate bags. RC2 and RC4, which need OpenSSL's legacy provider, are refused by name.
 */
export function decodePkcs12(container: Uint8Array, passwordBytes: Uint8Array): Pkcs12Read {
  const password = Buffer.from(passwordBytes).toString('utf8');
  const pfx = children(node(container, 0), container);
  const [version, authSafe, macData] = pfx;
  if (version === undefined || authSafe === undefined || intValue(version, container) !== 3) {
    throw new Pkcs12Error('not a PKCS#12 container: no PFX version 3');
  }
  const [authType, authContent] = children(authSafe, container);
  if (
    authType === undefined ||
    oidValue(authType, container) !== READ_OID.data ||
    authContent === undefined
  ) {
    throw new Pkcs12Error('only password-integrity containers (authSafe of type data) are read');
  }
  const authOctets = octets(only(children(authContent, container)), container);
  // Without a MAC nothing would tell a wrong password from a right one for a container whose key is in clear.
  if (macData === undefined)
    throw new Pkcs12Error('a container without a MAC is not read: its password cannot be checked');
  const budget = new Budget();
  checkMac(macData, authOctets, password, container, budget);
  const keys: Pkcs12Bag[] = [];
  const certificates: Pkcs12Bag[] = [];
  for (const info of children(node(authOctets, 0), authOctets)) {
    const [type, content] = children(info, authOctets);
    const kind = type === undefined ? undefined : oidValue(type, authOctets);
    let safeContents: Uint8Array;
    if (kind === READ_OID.data && content !== undefined) {
      safeContents = octets(only(children(content, authOctets)), authOctets);
    } else if (kind === READ_OID.encryptedData && content !== undefined) {
      const [, encryptedInfo] = children(only(children(content, authOctets)), authOctets);
      if (encryptedInfo === undefined) throw new Pkcs12Error('an EncryptedData without its content');
      const [, algorithm, encrypted] = children(encryptedInfo, authOctets);
      if (algorithm === undefined || encrypted === undefined)
        throw new Pkcs12Error('an EncryptedData without its content');
      safeContents = decrypt(algorithm, implicitOctets(encrypted, authOctets), password, authOctets, budget);
    } else {
      throw new Pkcs12Error(`a content of type ${kind ?? '?'} is not read (only data and encryptedData)`);
    }
    readBags(safeContents, password, keys, certificates, budget);
    // What was decrypted may have held a key in clear (a keyBag); the bags read from it are copies.
    if (kind === READ_OID.encryptedData) safeContents.fill(0);
  }
  return { keys, certificates };
}

function checkMac(
  macData: Node,
  authOctets: Uint8Array,
  password: string,
  buf: Uint8Array,
  budget: Budget,
): void {
  const [digestInfo, saltNode, iterationsNode] = children(macData, buf);
  if (digestInfo === undefined || saltNode === undefined) throw new Pkcs12Error('a MacData without its salt');
  const [algorithm, digest] = children(digestInfo, buf);
  const hashOid =
    algorithm === undefined ? undefined : oidValue(only(children(algorithm, buf).slice(0, 1)), buf);
  const hash = hashOid === undefined ? undefined : macHashes[hashOid];
  if (hash === undefined || digest === undefined) {
    throw new Pkcs12Error(`the container's MAC algorithm ${hashOid ?? '?'} is not read here`);
  }
  const iterations =
    iterationsNode === undefined ? 1 : iterationsWithin(iterationsNode, buf, MAX_KDF_ITERATIONS);
  const [u] = kdfHashes[hash] ?? [0];
  budget.spendKdf(iterations, 1);
  const key = pkcs12Kdf(password, octets(saltNode, buf), 3, iterations, u, hash);
  const mac = createHmac(hash, key).update(authOctets).digest();
  key.fill(0);
  const expected = octets(digest, buf);
  if (mac.length !== expected.length || !timingSafeEqual(mac, expected)) {
    throw new Pkcs12Error('the container does not open with this password (its MAC does not match)');
  }
}

function readBags(
  safeContents: Uint8Array,
  password: string,
  keys: Pkcs12Bag[],
  certificates: Pkcs12Bag[],
  budget: Budget,
): void {
  for (const bag of children(node(safeContents, 0), safeContents)) {
    budget.spendBag();
    const [idNode, valueNode, attributesNode] = children(bag, safeContents);
    if (idNode === undefined || valueNode === undefined) throw new Pkcs12Error('a SafeBag without its value');
    const id = oidValue(idNode, safeContents);
    const value = only(children(valueNode, safeContents));
    const attributes = attributesNode === undefined ? [] : children(attributesNode, safeContents);
    let friendlyName: string | undefined;
    let localKeyId: string | undefined;
    for (const attribute of attributes) {
      const [attrId, values] = children(attribute, safeContents);
      if (attrId === undefined || values === undefined) continue;
      const first = children(values, safeContents)[0];
      if (first === undefined) continue;
      const oidText = oidValue(attrId, safeContents);
      if (oidText === OID.friendlyName) {
        const bmp = contentOf(first, safeContents);
        if (safeContents[first.start] !== 0x1e || bmp.length % 2 !== 0) {
          throw new Pkcs12Error('a friendly name that is not a BMPString');
        }
        friendlyName = Buffer.from(bmp).swap16().toString('utf16le');
      } else if (oidText === OID.localKeyId) {
        localKeyId = Buffer.from(contentOf(first, safeContents)).toString('hex');
      }
    }
    if (id === READ_OID.keyBag) {
      keys.push({ der: slice(value, safeContents), friendlyName, localKeyId });
    } else if (id === OID.pkcs8ShroudedKeyBag) {
      const [algorithm, encrypted] = children(value, safeContents);
      if (algorithm === undefined || encrypted === undefined)
        throw new Pkcs12Error('a shrouded key bag without its key');
      const der = decrypt(algorithm, octets(encrypted, safeContents), password, safeContents, budget);
      keys.push({ der, friendlyName, localKeyId });
    } else if (id === OID.certBag) {
      const [certType, certValue] = children(value, safeContents);
      if (
        certType === undefined ||
        certValue === undefined ||
        oidValue(certType, safeContents) !== OID.x509Certificate
      ) {
        continue; // SDSI certificates: nothing KMIP can register.
      }
      certificates.push({
        der: Uint8Array.from(octets(only(children(certValue, safeContents)), safeContents)),
        friendlyName,
        localKeyId,
      });
    }
    // CRL, secret and nested bags hold nothing a private key's registration takes.
  }
}

function decrypt(
  algorithm: Node,
  data: Uint8Array,
  password: string,
  buf: Uint8Array,
  budget: Budget,
): Uint8Array {
  const [idNode, params] = children(algorithm, buf);
  const id = idNode === undefined ? '?' : oidValue(idNode, buf);
  if ((id === READ_OID.pbeSha1TripleDes || id === READ_OID.pbeSha1TwoKeyTripleDes) && params !== undefined) {
    const [saltNode, iterationsNode] = children(params, buf);
    if (saltNode === undefined || iterationsNode === undefined)
      throw new Pkcs12Error('PBE parameters are incomplete');
    const salt = octets(saltNode, buf);
    const iterations = iterationsWithin(iterationsNode, buf, MAX_KDF_ITERATIONS);
    const three = id === READ_OID.pbeSha1TripleDes;
    // SHA-1 gives 20 bytes a block: two blocks for the key, one for the IV.
    budget.spendKdf(iterations, 3);
    const key = pkcs12Kdf(password, salt, 1, iterations, three ? 24 : 16, 'sha1');
    const iv = pkcs12Kdf(password, salt, 2, iterations, 8, 'sha1');
    return decipher(three ? 'des-ede3-cbc' : 'des-ede-cbc', key, iv, data);
  }
  if (id === READ_OID.pbes2 && params !== undefined) {
    const [kdf, scheme] = children(params, buf);
    const [kdfId, kdfParams] = kdf === undefined ? [] : children(kdf, buf);
    const [schemeId, ivNode] = scheme === undefined ? [] : children(scheme, buf);
    const cipher = schemeId === undefined ? undefined : aesCbc[oidValue(schemeId, buf)];
    if (kdfId === undefined || oidValue(kdfId, buf) !== READ_OID.pbkdf2 || kdfParams === undefined) {
      throw new Pkcs12Error('PBES2 is read with PBKDF2 only');
    }
    if (cipher === undefined || ivNode === undefined)
      throw new Pkcs12Error('PBES2 is read with AES-CBC only');
    const fields = children(kdfParams, buf);
    const [saltNode, iterationsNode] = fields;
    if (saltNode === undefined || iterationsNode === undefined)
      throw new Pkcs12Error('PBKDF2 parameters are incomplete');
    const prfNode = fields.find((f, i) => i >= 2 && buf[f.start] === TAG_SEQUENCE);
    const prfId = prfNode === undefined ? undefined : children(prfNode, buf)[0];
    const prf = prfId === undefined ? 'sha1' : prfHashes[oidValue(prfId, buf)];
    if (prf === undefined) throw new Pkcs12Error('the PBKDF2 pseudo-random function is not read here');
    const keyLength = Number(cipher.split('-')[1]) / 8;
    const iterations = iterationsWithin(iterationsNode, buf, MAX_PBKDF2_ITERATIONS);
    budget.spendPbkdf2(iterations, prf === 'sha1' && keyLength > 20 ? 2 : 1);
    const key = pbkdf2Sync(Buffer.from(password, 'utf8'), octets(saltNode, buf), iterations, keyLength, prf);
    return decipher(cipher, key, octets(ivNode, buf), data);
  }
  throw new Pkcs12Error(
    `the container is encrypted with ${id}, which is not read here (PBES2 with AES, or PKCS#12 PBE with 3DES): RC2 and RC4 need OpenSSL's legacy provider`,
  );
}

function decipher(name: string, key: Buffer, iv: Uint8Array, data: Uint8Array): Uint8Array {
  try {
    const d = createDecipheriv(name, key, iv);
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new Pkcs12Error('the container does not open with this password (its contents do not decrypt)');
  } finally {
    key.fill(0);
  }
}

// --- DER reading: definite lengths only (a PKCS#12 in BER with indefinite lengths is refused), by readTlv. ---

interface Node {
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the contents. */
  readonly content: number;
  /** Offset just past the contents. */
  readonly end: number;
}

function node(buf: Uint8Array, at: number, limit = buf.length): Node {
  let header: Tlv;
  try {
    // Definite lengths of one to four octets (readTlv refuses BER's indefinite form, 0x80, among the rest).
    header = readTlv(buf, at);
  } catch (error) {
    if (error instanceof HsmError) throw new Pkcs12Error(`the container is ${error.message}`);
    throw error;
  }
  if (header.end > limit) throw new Pkcs12Error('the container is truncated');
  return { start: at, content: header.contentStart, end: header.end };
}

function children(parent: Node, buf: Uint8Array): Node[] {
  if (((buf[parent.start] ?? 0) & 0x20) === 0) throw new Pkcs12Error('a structure was expected');
  const out: Node[] = [];
  for (let at = parent.content; at < parent.end;) {
    const child = node(buf, at, parent.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function only(nodes: readonly Node[]): Node {
  const first = nodes[0];
  if (first === undefined) throw new Pkcs12Error('an empty structure where a value was expected');
  return first;
}

const contentOf = (n: Node, buf: Uint8Array): Uint8Array => buf.subarray(n.content, n.end);
const slice = (n: Node, buf: Uint8Array): Uint8Array => Uint8Array.from(buf.subarray(n.start, n.end));

function octets(n: Node, buf: Uint8Array): Uint8Array {
  if (buf[n.start] !== TAG_OCTET_STRING) throw new Pkcs12Error('an OCTET STRING was expected');
  return contentOf(n, buf);
}

/** [0] IMPLICIT OCTET STRING: primitive, or constructed of OCTET STRING segments. */
function implicitOctets(n: Node, buf: Uint8Array): Uint8Array {
  if (buf[n.start] === 0x80) return contentOf(n, buf);
  if (buf[n.start] === 0xa0) return Buffer.concat(children(n, buf).map((segment) => octets(segment, buf)));
  throw new Pkcs12Error('an encrypted content was expected');
}

function intValue(n: Node, buf: Uint8Array): number {
  if (buf[n.start] !== TAG_INTEGER || n.end - n.content > 6)
    throw new Pkcs12Error('a small INTEGER was expected');
  let value = 0;
  for (let i = n.content; i < n.end; i++) value = value * 256 + (buf[i] ?? 0);
  return value;
}

function oidValue(n: Node, buf: Uint8Array): string {
  if (buf[n.start] !== TAG_OID) throw new Pkcs12Error('an OBJECT IDENTIFIER was expected');
  const bytes = contentOf(n, buf);
  const first = bytes[0] ?? 0;
  const arcs = [Math.min(2, Math.floor(first / 40)), first - Math.min(2, Math.floor(first / 40)) * 40];
  let value = 0;
  for (let i = 1; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}
