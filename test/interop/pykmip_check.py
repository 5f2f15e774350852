"""Drives the appliance with PyKMIP's own client (Debian python3-pykmip) and prints one JSON object of results.

Usage: pykmip_check.py HOST PORT CERT KEY CA VERSION   (VERSION: 1.0, 1.2, 1.4, 2.0)
Every secret it registers is made here, and both what was sent and what came back are printed as hex, so that the
test on the other side compares them itself.
"""
import datetime
import json
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from kmip.core import enums
from kmip.pie import exceptions, objects
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version = sys.argv[1:7]
versions = {
    "1.0": enums.KMIPVersion.KMIP_1_0,
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}
out = {"version": version}


def failure(fn):
    try:
        fn()
    except exceptions.KmipOperationFailure as e:
        return {"status": str(e.status), "reason": str(e.reason), "message": e.message}
    return None


rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pkcs1_private = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())
pkcs8_private = rsa_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
pkcs1_public = rsa_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
x509_public = rsa_key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pykmip-check")])
now = datetime.datetime.utcnow()
certificate = (
    x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(rsa_key.public_key())
    .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
    .sign(rsa_key, hashes.SHA256())
).public_bytes(serialization.Encoding.DER)
symmetric = bytes(range(32))

registrations = {
    "symmetric": objects.SymmetricKey(enums.CryptographicAlgorithm.AES, 256, symmetric),
    "private_pkcs1": objects.PrivateKey(enums.CryptographicAlgorithm.RSA, 2048, pkcs1_private, enums.KeyFormatType.PKCS_1),
    "private_pkcs8": objects.PrivateKey(enums.CryptographicAlgorithm.RSA, 2048, pkcs8_private, enums.KeyFormatType.PKCS_8),
    "public_pkcs1": objects.PublicKey(enums.CryptographicAlgorithm.RSA, 2048, pkcs1_public, enums.KeyFormatType.PKCS_1),
    "public_x509": objects.PublicKey(enums.CryptographicAlgorithm.RSA, 2048, x509_public, enums.KeyFormatType.X_509),
    "certificate": objects.X509Certificate(certificate),
    "password": objects.SecretData(b"correct horse battery staple", enums.SecretDataType.PASSWORD),
    "seed": objects.SecretData(bytes(range(7, 48)), enums.SecretDataType.SEED),
    "opaque": objects.OpaqueObject(b"\x00opaque\xffbytes", enums.OpaqueDataType.NONE),
}

client = ProxyKmipClient(hostname=host, port=int(port), cert=cert, key=key, ca=ca, config_file="/dev/null", kmip_version=versions[version])
with client:
    out["registered"] = {}
    for label, managed in registrations.items():
        uid = client.register(managed)
        fetched = client.get(uid)
        out["registered"][label] = {"uid": uid, "sent": managed.value.hex(), "got": fetched.value.hex(), "type": str(fetched.object_type)}

    created = client.create(enums.CryptographicAlgorithm.AES, 256, name="check-" + version)
    out["create"] = {"uid": created, "length": len(client.get(created).value)}
    # Named: PyKMIP 0.10 cannot read every attribute a server sets (Original Creation Date, Random Number
    # Generator, Link raise in its attribute factory), so an all-attributes Get Attributes fails inside the client;
    # and it reads Digest only in its 1.1 form, with Key Format Type, which KMIP 1.0 (section 3.12) does not have.
    _, attributes = client.get_attributes(created, [
        "Unique Identifier", "Object Type", "State", "Cryptographic Algorithm", "Cryptographic Length", "Name",
    ] + ([] if version == "1.0" else ["Digest"]))
    out["attributes"] = sorted({a.attribute_name.value for a in attributes})
    out["locate_by_name"] = client.locate(attributes=[
        client.attribute_factory.create_attribute(enums.AttributeType.NAME, "check-" + version)])
    out["locate_aes"] = len(client.locate(attributes=[
        client.attribute_factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, enums.CryptographicAlgorithm.AES)]))

    public_uid, private_uid = client.create_key_pair(enums.CryptographicAlgorithm.RSA, 2048)
    out["key_pair"] = {
        "public": client.get(public_uid).value.hex(),
        "private_len": len(client.get(private_uid).value),
    }

    out["destroy_active"] = None
    client.activate(created)
    out["destroy_active"] = failure(lambda: client.destroy(created))
    client.revoke(enums.RevocationReasonCode.CESSATION_OF_OPERATION, created)
    _, after_revoke = client.get_attributes(created, ["State"])
    out["state_after_revoke"] = str(after_revoke[0].attribute_value.value)
    client.destroy(created)
    out["get_after_destroy"] = failure(lambda: client.get(created))
    out["get_unknown"] = failure(lambda: client.get("no-such-object"))

print(json.dumps(out))
