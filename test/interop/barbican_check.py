"""Drives the appliance through OpenStack Barbican's own KMIPSecretStore plugin (Debian python3-barbican),
configured like barbican.conf's [kmip_plugin] section, and prints one JSON object of results.

Usage: barbican_check.py HOST PORT CERT KEY CA PKCS1_ONLY(true|false) [USERNAME PASSWORD]
"""
import base64
import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oslo_config import cfg

from barbican.plugin import kmip_secret_store as kss
from barbican.plugin.interface import secret_store as ss

host, port, cert, key, ca, pkcs1_only = sys.argv[1:7]
username, password = (sys.argv[7], sys.argv[8]) if len(sys.argv) > 8 else (None, None)

conf = cfg.ConfigOpts()
conf.register_group(kss.kmip_opt_group)
conf.register_opts(kss.kmip_opts, group=kss.kmip_opt_group)
conf([], project="barbican-check", default_config_files=[])
for name, value in [("host", host), ("port", int(port)), ("certfile", cert), ("keyfile", key), ("ca_certs", ca),
                    ("pkcs1_only", pkcs1_only == "true"), ("username", username), ("password", password)]:
    conf.set_override(name, value, group="kmip_plugin")

store = kss.KMIPSecretStore(conf)
out = {"pkcs1_only": pkcs1_only == "true", "generated": {}, "stored": {}}


def attempt(label, fn):
    try:
        return fn()
    except Exception as e:  # the plugin wraps every failure in SecretGeneralException
        out.setdefault("errors", {})[label] = "%s: %s" % (type(e).__name__, e)
        return None


for alg, bits in [("aes", 128), ("aes", 256), ("des", 56), ("desede", 168), ("desede", 192), ("hmacsha1", 160), ("hmacsha256", 256),
                  ("hmacsha384", 384), ("hmacsha512", 512)]:
    meta = attempt("generate %s %d" % (alg, bits), lambda: store.generate_symmetric_key(ss.KeySpec(alg, bits)))
    if meta:
        secret = attempt("get %s %d" % (alg, bits), lambda: store.get_secret(ss.SecretType.SYMMETRIC, meta))
        out["generated"]["%s-%d" % (alg, bits)] = None if secret is None else len(base64.b64decode(secret.secret))

for alg, bits in [("rsa", 2048)] + ([] if pkcs1_only == "true" else [("dsa", 2048)]):
    pair = attempt("generate %s" % alg, lambda: store.generate_asymmetric_key(ss.KeySpec(alg, bits)))
    if pair:
        private = attempt("get %s private" % alg, lambda: store.get_secret(ss.SecretType.PRIVATE, pair.private_key_meta))
        public = attempt("get %s public" % alg, lambda: store.get_secret(ss.SecretType.PUBLIC, pair.public_key_meta))
        out["generated"][alg] = {
            "private": None if private is None else base64.b64decode(private.secret).decode(errors="replace")[:40],
            "public": None if public is None else base64.b64decode(public.secret).decode(errors="replace")[:40],
        }

rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
private_pem = rsa_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
public_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
secrets = [
    ("symmetric", ss.SecretType.SYMMETRIC, base64.b64encode(bytes(range(32))), ss.KeySpec("aes", 256)),
    ("opaque", ss.SecretType.OPAQUE, base64.b64encode(b"\x00\x01opaque\xfe\xff"), ss.KeySpec()),
    ("passphrase", ss.SecretType.PASSPHRASE, base64.b64encode(b"correct horse battery staple"), ss.KeySpec()),
    ("private", ss.SecretType.PRIVATE, base64.b64encode(private_pem), ss.KeySpec("rsa", 2048)),
    ("public", ss.SecretType.PUBLIC, base64.b64encode(public_pem), ss.KeySpec("rsa", 2048)),
]
for label, secret_type, value, spec in secrets:
    dto = ss.SecretDTO(secret_type, value, spec, "application/octet-stream")
    meta = attempt("store " + label, lambda: store.store_secret(dto))
    if not meta:
        continue
    got = attempt("get " + label, lambda: store.get_secret(secret_type, meta))
    out["stored"][label] = {"sent": value.decode(), "got": None if got is None else got.secret.decode()
                            if isinstance(got.secret, bytes) else got.secret}
    if label == "symmetric":
        attempt("delete " + label, lambda: store.delete_secret(meta))
        after = attempt("get after delete", lambda: store.get_secret(secret_type, meta))
        out["get_after_delete"] = after is None

print(json.dumps(out))
