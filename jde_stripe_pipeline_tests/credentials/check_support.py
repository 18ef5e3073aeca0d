"""Served sandboxes for the `check` tests: an AIS sandbox and a Stripe emulator with distinctive secrets.

The AIS user and password and the Stripe key are `support`'s distinctive values, so a test can grep
every output for them. `served_over_https` serves the AIS sandbox over HTTPS: `tls_certificate` makes a
self-signed certificate for 127.0.0.1 and `serve_tls` wraps a LoopbackServer's listening socket with it
(the sandbox stays the real one).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from jde_stripe_pipeline.sandboxes.ais import AisSandbox, AisSandboxConfig, AisUser
from jde_stripe_pipeline.sandboxes.http_server import LoopbackServer
from jde_stripe_pipeline.sandboxes.stripe_emulator import StripeEmulator, StripeEmulatorConfig
from jde_stripe_pipeline_tests.credentials.support import JDE_PASSWORD, JDE_USER, STRIPE_KEY

JDE_ENVIRONMENT_NAME = "JDV920"


@dataclass
class Systems:
    """Both sandboxes, served, and the environment that points the connector at them."""

    ais: AisSandbox
    ais_server: LoopbackServer
    stripe: StripeEmulator
    stripe_server: LoopbackServer

    def env(self, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = {
            "JDE_AIS_URL": self.ais_server.url,
            "JDE_AIS_USERNAME": JDE_USER,
            "JDE_AIS_PASSWORD": JDE_PASSWORD,
            "JDE_AIS_ENVIRONMENT": JDE_ENVIRONMENT_NAME,
            "STRIPE_API_KEY": STRIPE_KEY,
            "STRIPE_API_BASE": self.stripe_server.url,
            **overrides,
        }
        return {name: value for name, value in values.items() if value is not None}


@contextlib.contextmanager
def served_systems() -> Iterator[Systems]:
    ais = AisSandbox(
        seed=7, customers=3, invoices=3, config=AisSandboxConfig(users={JDE_USER: AisUser(JDE_PASSWORD)})
    )
    stripe = StripeEmulator(StripeEmulatorConfig(api_keys=(STRIPE_KEY,)))
    try:
        with ais.serve() as ais_server, stripe.serve() as stripe_server:
            yield Systems(ais, ais_server, stripe, stripe_server)
    finally:
        ais.close()
        stripe.close()


def closed_port_url() -> str:
    """A loopback URL nobody listens on: connections are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@dataclass(frozen=True)
class Certificate:
    cert_file: Path
    key_file: Path


def tls_certificate(directory: Path) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (its own CA), as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "jde-ais-sandbox test CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "ais-ca.pem"
    key_file = directory / "ais-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(cert_file, key_file)


@contextlib.contextmanager
def serve_tls(server: LoopbackServer, certificate: Certificate) -> Iterator[str]:
    """Serve `server` over HTTPS; yields its https:// URL.

    Wraps the listening socket of the (unstarted) LoopbackServer: each accepted connection does the TLS
    handshake, and a client refusing the certificate only ends that connection.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert_file, certificate.key_file)
    httpd = server._httpd  # LoopbackServer has no TLS option; its socket is the one thing to wrap
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    with server:
        yield f"https://{server.host}:{server.port}"


@contextlib.contextmanager
def served_over_https(directory: Path) -> Iterator[tuple[Systems, str, Path]]:
    """Both sandboxes, the AIS one over HTTPS with a self-signed certificate made in `directory`: yields
    the systems, the AIS https:// URL and the certificate's PEM file (the CA bundle that trusts it)."""
    certificate = tls_certificate(directory)
    with served_systems() as systems, serve_tls(systems.ais.server(), certificate) as https_url:
        yield systems, https_url, certificate.cert_file
