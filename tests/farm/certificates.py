"""A throwaway certificate authority for the farm's HTTPS mirrors.

Made fresh at start-up (elliptic-curve keys: milliseconds, not the seconds
RSA keys take), never written anywhere unless asked.  Clients trust it with
C{ProbeClient(trust_root=farm.ca.certificate)}.
"""

from __future__ import annotations

import datetime
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from twisted.internet import ssl


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _san(names):
    entries = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _pem(key, certificate):
    return (certificate.public_bytes(serialization.Encoding.PEM)
            + key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()))


class TestCA:
    """A CA that issues server certificates for loopback mirrors.

    @ivar pem: the CA certificate, PEM bytes (for curl --cacert, apt).
    @ivar certificate: the same as a twisted.internet.ssl.Certificate, usable
        as a client's trustRoot.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, name="mirrorkeeper test CA"):
        self._key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0),
                           critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True,
                    content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False,
                    encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.pem = self._cert.public_bytes(serialization.Encoding.PEM)
        self.certificate = ssl.Certificate.loadPEM(self.pem)

    def issue(self, names):
        """A server certificate for C{names} (host names and IP addresses),
        signed by this CA.

        @return: a twisted.internet.ssl.PrivateCertificate.
        """
        return ssl.PrivateCertificate.loadPEM(
            self._build(names, self._key, self._cert.subject))

    @staticmethod
    def self_signed(names):
        """A self-signed server certificate for C{names}, which no client
        trusting only this CA (or any CA) accepts.

        @return: a twisted.internet.ssl.PrivateCertificate.
        """
        return ssl.PrivateCertificate.loadPEM(TestCA._build(names, None, None))

    @staticmethod
    def _build(names, issuer_key, issuer_name):
        key = ec.generate_private_key(ec.SECP256R1())
        subject = _name(names[0])
        now = datetime.datetime.now(datetime.timezone.utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer_name or subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(_san(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                           critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                critical=False
            )
        )
        certificate = builder.sign(issuer_key or key, hashes.SHA256())
        return _pem(key, certificate)
