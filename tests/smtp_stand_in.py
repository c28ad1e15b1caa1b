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
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import warnings
from typing import Any, Self

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
        return "250 OK"


class SmtpStandIn:
    """aiosmtpd in a thread on a free port; see the module docstring."""

    def __init__(self, auth: tuple[str, str] | None = None):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.attempts = 0
        self._defer = 0
        self._reject = 0
        self._lock = threading.Lock()
        self.auth = auth
        self.port = _free_port()
        kwargs: dict[str, Any] = {}
        if auth:
            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                              data: Any) -> AuthResult:
                ok = (isinstance(data, LoginPassword)
                      and (data.login.decode(), data.password.decode()) == auth)
                return AuthResult(success=ok, handled=False)
            kwargs = {"authenticator": authenticator, "auth_required": True,
                      "auth_require_tls": False}
        self.controller = Controller(_Handler(self), hostname="127.0.0.1", port=self.port,
                                     **kwargs)

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
        return [str(m["Message-ID"]) for m in self.messages]

    def __enter__(self) -> Self:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()
