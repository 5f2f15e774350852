"""What the PyKMIP interop scripts share: their command line, the test's INPUT file, the client, and how a call's
failure is reported to the test.

A script is run as: SCRIPT HOST PORT CERT KEY CA VERSION INPUT   (VERSION: 1.2, 1.4, 2.0; INPUT: a JSON file the
test wrote, every byte string as hex). Python puts the script's own folder on sys.path, so `import pykmip_common`
finds this file.
"""
import json
import sys

from kmip.core import enums
from kmip.pie import exceptions
from kmip.pie.client import ProxyKmipClient

host, port, cert, key, ca, version, input_path = sys.argv[1:8]
versions = {
    "1.2": enums.KMIPVersion.KMIP_1_2,
    "1.4": enums.KMIPVersion.KMIP_1_4,
    "2.0": enums.KMIPVersion.KMIP_2_0,
}
with open(input_path) as f:
    given = json.load(f)


def b(name):
    """A byte string of INPUT."""
    return bytes.fromhex(given[name])


def connect():
    """PyKMIP's client for the appliance under test, speaking VERSION (no configuration file read)."""
    return ProxyKmipClient(
        hostname=host, port=int(port), cert=cert, key=key, ca=ca, config_file="/dev/null", kmip_version=versions[version]
    )


def failure(status, reason, message):
    return {"status": str(status), "reason": str(reason), "message": message}


def attempt(fn):
    """The call's result, or its KMIP failure as {"failure": {...}}, or {"exception": ...} for a client-side error."""
    try:
        return fn()
    except exceptions.KmipOperationFailure as e:
        return {"failure": failure(e.status, e.reason, e.message)}
    except Exception as e:  # noqa: BLE001 - reported to the test, which names what it expected
        return {"exception": "{0}: {1}".format(type(e).__name__, e)}
