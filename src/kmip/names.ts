/**
 * Name normalisation of the KMIP XML and JSON encodings (KMIP Profiles 1.4 §5.4.1.1 "Normalizing Names", the same
 * rule in the 2.x profiles): tag names, type names and enumeration value names are written in this CamelCase form,
 * e.g. "Cryptographic Algorithm" -> "CryptographicAlgorithm", "X.509 Certificate Identifier" ->
 * "X_509CertificateIdentifier", "PKCS#11 Function" -> "PKCS_11Function", "SHA-256" -> "SHA_256", "3DES" -> "DES3".
 */
export function normalizeName(name: string): string {
  // 1. Round brackets become spaces.
  let s = name.replace(/[()]/g, ' ');
  // 2. A non-word character followed by a letter and a lower case letter becomes a space ("Non-Repudiation").
  s = s.replace(/[^A-Za-z0-9_\s]([A-Za-z][a-z])/g, ' $1');
  // 3. Any other non-word character (white space aside) becomes an underscore ("P-256" -> "P_256").
  s = s.replace(/[^A-Za-z0-9_\s]/g, '_');
  const words = s
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  // 4. Digits that start the first word move to its end ("3DES" -> "DES3").
  const first = words[0];
  if (first !== undefined) {
    const m = /^(\d+)(.+)$/.exec(first);
    if (m !== null) words[0] = `${m[2] ?? ''}${m[1] ?? ''}`;
  }
  // 5. Capitalise the first letter of each word, 6. concatenate.
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}
