"""A throwaway self-signed certificate for the simulator's ``wss`` endpoint.

The SDK always connects the Live API with ``wss`` (it rewrites the scheme), so a local
simulator must speak TLS for ``api: live``. The certificate names 127.0.0.1 only, lives one
day, and is made fresh for each simulator: nothing to commit, nothing a real client trusts.
(``cryptography`` comes with google-auth, which the SDK needs.)
"""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path


def self_signed(directory: Path, host: str = "127.0.0.1") -> tuple[str, str]:
    """Write a certificate and key for ``host`` into ``directory``.

    Returns:
        ``(certfile, keyfile)``: give both to :func:`harness.sim.server.start` (``tls=``) and
        the certificate to the client as the one CA it trusts.

    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harness-sim")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    directory.mkdir(parents=True, exist_ok=True)
    certfile, keyfile = directory / "sim.crt", directory / "sim.key"
    certfile.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    keyfile.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    keyfile.chmod(0o600)
    return str(certfile), str(keyfile)
