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
 * The encoder writes DER by hand: the structures are few and fixed, and this keeps the module free of ASN.1
 * schema libraries.
 */
import { createHash, createHmac, createPrivateKey, randomBytes } from 'node:crypto';

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
}

export function encodePkcs12(contents: Pkcs12Contents): Uint8Array {
  const password = Buffer.from(contents.password).toString('utf8');
  const keyId = createHash('sha1')
    .update(contents.certificates[0] ?? contents.privateKeyPkcs8)
    .digest();
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
  const macKey = pkcs12Kdf(password, macSalt, 3, ITERATIONS, 32);
  const mac = createHmac('sha256', macKey).update(authenticatedSafe).digest();
  macKey.fill(0);
  const macData = sequence([
    sequence([sequence([oid(OID.sha256), nullValue()]), octetString(mac)]),
    octetString(macSalt),
    integer(ITERATIONS),
  ]);
  return sequence([integer(3), dataContent(authenticatedSafe), macData]);
}

/**
 * The PKCS#12 key derivation (RFC 7292 Appendix B.2) with SHA-256 (u = 32, v = 64 bytes): ID 3 makes a MAC key.
 * The password is a BMPString with its two-byte terminator (§B.1).
 */
export function pkcs12Kdf(
  password: string,
  salt: Uint8Array,
  id: number,
  iterations: number,
  size: number,
): Buffer {
  const u = 32;
  const v = 64;
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
    let a = createHash('sha256').update(d).update(i).digest();
    for (let round = 1; round < iterations; round++) a = createHash('sha256').update(a).digest();
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
  return Buffer.concat(blocks).subarray(0, size);
}

// --- DER (X.690 §10): definite lengths, only the types a PFX needs. ---

function tlv(tagByte: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  const length =
    n < 0x80
      ? [n]
      : (() => {
          const bytes: number[] = [];
          for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
          return [0x80 | bytes.length, ...bytes];
        })();
  return Buffer.concat([Buffer.from([tagByte, ...length]), content]);
}

const raw = (der: Uint8Array): Uint8Array => der;
const sequence = (items: readonly Uint8Array[]): Uint8Array => tlv(0x30, Buffer.concat(items));
/** A SET OF in DER order (X.690 §11.6: the encodings sorted as octet strings). */
const set = (items: readonly Uint8Array[]): Uint8Array =>
  tlv(0x31, Buffer.concat([...items].sort((a, b) => Buffer.compare(a, b))));
const explicit = (n: number, inner: Uint8Array): Uint8Array => tlv(0xa0 + n, inner);
const octetString = (bytes: Uint8Array): Uint8Array => tlv(0x04, bytes);
const nullValue = (): Uint8Array => Buffer.from([0x05, 0x00]);
const bmpString = (text: string): Uint8Array => tlv(0x1e, Buffer.from(text, 'utf16le').swap16());

function integer(value: number): Uint8Array {
  const bytes: number[] = [];
  for (let rest = value; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
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
  return tlv(0x06, Buffer.from(out));
}
