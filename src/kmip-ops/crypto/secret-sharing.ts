/**
 * Splitting a key into parts and joining them again (KMIP 1.4 §2.2.5 Split Key, §9.1.3.2.8 Split Key Method):
 * XOR (every part needed) and polynomial sharing over GF(2^8) (Shamir's scheme, byte by byte, the field reduced by
 * x^8 + x^4 + x^3 + x^2 + 1, the parts evaluated at their Key Part Identifiers; the OASIS test cases TC-SJ join
 * with exactly this field). The randomness comes from the caller (the token's generator); nothing here draws any.
 */

/** One part: its Key Part Identifier (1 to 255) and its bytes. */
export interface SharePart {
  readonly id: number;
  readonly bytes: Uint8Array;
}

const FIELD_POLYNOMIAL = 0x11d;

function gfMultiply(a: number, b: number): number {
  let product = 0;
  let x = a;
  let y = b;
  while (y > 0) {
    if (y & 1) product ^= x;
    x <<= 1;
    if (x & 0x100) x ^= FIELD_POLYNOMIAL;
    y >>= 1;
  }
  return product;
}

/** Multiplicative inverses in the field, by table (255 non-zero elements). */
const inverses: readonly number[] = (() => {
  const table = new Array<number>(256).fill(0);
  for (let a = 1; a < 256; a++) {
    for (let b = 1; b < 256; b++) {
      if (gfMultiply(a, b) === 1) {
        table[a] = b;
        break;
      }
    }
  }
  return table;
})();

/**
 * XOR: `parts` parts, the first parts - 1 taken from `random` (parts - 1 times the secret's length), the last the
 * secret XORed with them all.
 */
export function splitXor(secret: Uint8Array, parts: number, random: Uint8Array): SharePart[] {
  const out: SharePart[] = [];
  const last = Uint8Array.from(secret);
  for (let i = 0; i < parts - 1; i++) {
    const part = random.slice(i * secret.length, (i + 1) * secret.length);
    for (let j = 0; j < last.length; j++) last[j] = (last[j] ?? 0) ^ (part[j] ?? 0);
    out.push({ id: i + 1, bytes: part });
  }
  out.push({ id: parts, bytes: last });
  return out;
}

export function joinXor(parts: readonly SharePart[]): Uint8Array {
  const length = parts[0]?.bytes.length ?? 0;
  const out = new Uint8Array(length);
  for (const part of parts) for (let j = 0; j < length; j++) out[j] = (out[j] ?? 0) ^ (part.bytes[j] ?? 0);
  return out;
}

/**
 * Shamir over GF(2^8): for each byte a polynomial of degree threshold - 1 whose constant is the secret byte and
 * whose other coefficients come from `random` ((threshold - 1) times the secret's length), evaluated at 1..parts.
 */
export function splitPolynomial(
  secret: Uint8Array,
  parts: number,
  threshold: number,
  random: Uint8Array,
): SharePart[] {
  const out: SharePart[] = [];
  for (let x = 1; x <= parts; x++) {
    const bytes = new Uint8Array(secret.length);
    for (let j = 0; j < secret.length; j++) {
      // Horner's rule from the highest coefficient down to the secret byte.
      let y = 0;
      for (let k = threshold - 1; k >= 1; k--) {
        y = gfMultiply(y, x) ^ (random[(k - 1) * secret.length + j] ?? 0);
      }
      bytes[j] = gfMultiply(y, x) ^ (secret[j] ?? 0);
    }
    out.push({ id: x, bytes });
  }
  return out;
}

/** Lagrange interpolation at 0 of the given parts (distinct identifiers, as many as the threshold or more). */
export function joinPolynomial(parts: readonly SharePart[]): Uint8Array {
  const length = parts[0]?.bytes.length ?? 0;
  const weights = parts.map((part) => {
    let numerator = 1;
    let denominator = 1;
    for (const other of parts) {
      if (other.id === part.id) continue;
      numerator = gfMultiply(numerator, other.id);
      denominator = gfMultiply(denominator, other.id ^ part.id);
    }
    return gfMultiply(numerator, inverses[denominator] ?? 0);
  });
  const out = new Uint8Array(length);
  for (const [i, part] of parts.entries()) {
    const weight = weights[i] ?? 0;
    for (let j = 0; j < length; j++) out[j] = (out[j] ?? 0) ^ gfMultiply(part.bytes[j] ?? 0, weight);
  }
  return out;
}
