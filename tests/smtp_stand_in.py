"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, keeping what it receives.

Usage:

    with SmtpStandIn() as smtp:
        smtp.env            # {"FACTCHECK_SMTP_HOST": "127.0.0.1", "FACTCHECK_SMTP_PORT": ..., ...}
        smtp.defer(2)       # answer the next 2 DATA commands with 451 (a temporary failure)
        smtp.reject(1)      # answer the next DATA with 554 (permanent)
        ...
        smtp.messages       # [email.message.EmailMessage] in arrival order
        smtp.envelopes      # [(mail_from, [rcpt_tos])]

`auth=(user, password)` makes the server require AUTH LOGIN/PLAIN with those credentials (over
plain TCP, which aiosmtpd allows only when told to: tests never leave the machine).

`starttls=True` makes the server offer STARTTLS with a self-signed certificate for 127.0.0.1
(made with the openssl command on start); `client_context()` is an SSL context that trusts it, and
`tls_deliveries` records, per accepted message, whether its session was encrypted. AUTH is then
offered only after STARTTLS, as real submission servers do.

`refuse_sender` / `refuse_recipient` answer MAIL FROM / RCPT TO with that reply (e.g.
"550 5.7.1 not our user"); `on_data(fn)` calls `fn(message)` once a message has been received
and recorded, before the 250 reply goes out (the kill suite kills the client there).

`env_minimal` holds only FACTCHECK_SMTP_HOST/PORT and FACTCHECK_MAIL_FROM, so the sender's
defaults (security by port) are what is tested.
"""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# aiosmtpd warns when AUTH is allowed without TLS; these tests never leave 127.0.0.1
warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Handler:
    def __init__(self, owner: SmtpStandIn):
        self.owner = owner

    async def handle_MAIL(self, server: Any, session: Any, envelope: Any, address: str,
                          mail_options: Any) -> str:
        if self.owner.refuse_sender:
            return self.owner.refuse_sender
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:
        if self.owner.refuse_recipient:
            return self.owner.refuse_recipient
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.owner._lock:
            self.owner.attempts += 1
            if self.owner._defer > 0:
                self.owner._defer -= 1
                return "451 4.3.0 try again later"
            if self.owner._reject > 0:
                self.owner._reject -= 1
                return "554 5.7.1 rejected"
            msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
            self.owner.messages.append(msg)
            self.owner.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.owner.tls_deliveries.append(session.ssl is not None)
            hook = self.owner._on_data
        if hook is not None:
            hook(msg)
        return "250 OK"


class SmtpStandIn:
    """aiosmtpd in a thread on a free port; see the module docstring."""

    def __init__(self, auth: tuple[str, str] | None = None, starttls: bool = False):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.tls_deliveries: list[bool] = []
        self.attempts = 0
        self.refuse_sender: str | None = None
        self.refuse_recipient: str | None = None
        self._defer = 0
        self._reject = 0
        self._on_data: Callable[[email.message.EmailMessage], None] | None = None
        self._lock = threading.Lock()
        self.auth = auth
        self.port = _free_port()
        self._certs = tempfile.TemporaryDirectory(prefix="smtp-stand-in-") if starttls else None
        kwargs: dict[str, Any] = {}
        if auth:
            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                              data: Any) -> AuthResult:
                ok = (isinstance(data, LoginPassword)
                      and (data.login.decode(), data.password.decode()) == auth)
                return AuthResult(success=ok, handled=False)
            kwargs = {"authenticator": authenticator, "auth_required": True,
                      "auth_require_tls": starttls}
        if self._certs is not None:
            cert, key = _self_signed(Path(self._certs.name))
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            server_context.load_cert_chain(cert, key)
            kwargs["tls_context"] = server_context
            self.cert_path: Path | None = cert
        else:
            self.cert_path = None
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **kwargs)

    def client_context(self) -> ssl.SSLContext:
        """An SSL context that trusts this server's self-signed certificate."""
        context = ssl.create_default_context()
        if self.cert_path is not None:
            context.load_verify_locations(self.cert_path)
        return context

    def on_data(self, hook: Callable[[email.message.EmailMessage], None] | None) -> None:
        with self._lock:
            self._on_data = hook

    @property
    def env_minimal(self) -> dict[str, str]:
        return {"FACTCHECK_SMTP_HOST": "127.0.0.1", "FACTCHECK_SMTP_PORT": str(self.port),
                "FACTCHECK_MAIL_FROM": "factcheck@news.example"}

    @property
    def env(self) -> dict[str, str]:
        env = {"FACTCHECK_SMTP_HOST": "127.0.0.1", "FACTCHECK_SMTP_PORT": str(self.port),
               "FACTCHECK_SMTP_STARTTLS": "0", "FACTCHECK_SMTP_SSL": "0",
               "FACTCHECK_MAIL_FROM": "factcheck@news.example"}
        if self.auth:
            env["FACTCHECK_SMTP_USER"], env["FACTCHECK_SMTP_PASSWORD"] = self.auth
        return env

    def defer(self, times: int) -> None:
        with self._lock:
            self._defer = times

    def reject(self, times: int) -> None:
        with self._lock:
            self._reject = times

    def message_ids(self) -> list[str]:
        # a long Message-ID is folded onto its own line; the folding space is not part of it
        return [str(m["Message-ID"]).strip() for m in self.messages]

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
        if self._certs is not None:
            self._certs.cleanup()


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate and key for 127.0.0.1, valid for a day (made by the openssl command)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("the openssl command is needed to make the STARTTLS stand-in's certificate")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", str(key_path),
                    "-out", str(cert_path), "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert_path, key_path
