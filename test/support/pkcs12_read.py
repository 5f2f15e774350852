"""Reads a PKCS#12 file with Python's cryptography (the oracle for kmipd's PKCS#12 encoder): prints JSON with the
private key as PKCS#8 DER hex, the certificates as DER hex (the key's own first), and the friendly name, or the
error when the file does not open with the password."""
import json
import sys

from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, pkcs12

path, password_hex = sys.argv[1], sys.argv[2]
with open(path, "rb") as f:
    data = f.read()
try:
    bundle = pkcs12.load_pkcs12(data, bytes.fromhex(password_hex))
except ValueError as error:
    print(json.dumps({"error": str(error)}))
    sys.exit(0)
key = bundle.key
leaf = bundle.cert
print(
    json.dumps(
        {
            "key": key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()).hex() if key else None,
            "certificates": ([leaf.certificate.public_bytes(Encoding.DER).hex()] if leaf else [])
            + [c.certificate.public_bytes(Encoding.DER).hex() for c in bundle.additional_certs],
            "friendlyName": leaf.friendly_name.decode() if leaf and leaf.friendly_name else None,
        }
    )
)
