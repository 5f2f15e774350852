/**
 * The one place that loads @peculiar/x509. Its ASN.1 schemas are declared with decorators that need
 * reflect-metadata loaded first, and it signs through a WebCrypto provider that must be set before any use: Node's
 * own webcrypto, so that key generation and signing run in OpenSSL off the event loop (RSA key generation takes
 * tens to hundreds of milliseconds and must not stall the server's other connections).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
