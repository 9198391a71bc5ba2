"""Write an app certificate as Entra ID takes it: DEST/app.pem (private key and certificate, as certificate_path
wants them), DEST/app-encrypted.pem (the same key encrypted with PASSWORD) and DEST/app.crt (the certificate
alone, what is uploaded to the app registration). A self-signed RSA certificate, as `openssl req -x509` makes."""

import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def main(dest, password):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"secops.defender integration test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    for filename, encryption in (("app.pem", serialization.NoEncryption()),
                                 ("app-encrypted.pem", serialization.BestAvailableEncryption(password.encode()))):
        key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
        fd = os.open(os.path.join(dest, filename), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(key_pem.decode() + cert_pem)
    with open(os.path.join(dest, "app.crt"), "w") as handle:
        handle.write(cert_pem)


if __name__ == "__main__":
    main(*sys.argv[1:])
