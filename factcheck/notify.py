"""Email for the corrections desk: sending, and the outbox (the digest itself: factcheck.digest).

By default the desk gets one digest per run carrying every flagged story's findings; one message
per flagged story is a setting (mail.per_story).

Every message is built with `email.message.EmailMessage` (policy SMTP) as

```
multipart/mixed
  multipart/alternative
    text/plain   the report (or digest) as text
    text/html    the report as self-contained HTML, CSS inlined for mail clients
  application/json   the JSON report (or the digest's rows) as an attachment
```

with Date, a Message-ID fixed when the email was queued (a retried message keeps it, so a
receiving system can tell a copy), From, To and `Auto-Submitted: auto-generated`. Text from a story
goes into headers only through `clean_header`, which drops CR, LF and other control characters, so
a headline cannot add a header.

Sending: `SmtpSender` picks its transport security from the port unless told otherwise
(`FACTCHECK_SMTP_SSL`, `FACTCHECK_SMTP_STARTTLS`; unset means "follow the port"):

```
port 465          implicit TLS (SMTP over SSL)
port 587          STARTTLS, required: a server that does not offer it is a permanent failure
any other port    STARTTLS when the server's EHLO offers it, plain SMTP otherwise (25, 1025,
                  8025 test servers); a warning when a user and password would go in clear
```

It logs in when a user is set. A temporary failure (a 4xx reply, a refused or dropped connection
before the message was handed over) is retried with exponential backoff. A permanent one fails at
once with the setting to change: no STARTTLS where it is required (FACTCHECK_SMTP_STARTTLS), a
TLS handshake that fails (FACTCHECK_SMTP_SSL / STARTTLS), authentication refused
(FACTCHECK_SMTP_USER / PASSWORD), the sender refused (FACTCHECK_MAIL_FROM), the recipients
refused (the --email address), or any other 5xx. A connection lost while the message itself was
being handed over is *uncertain*: the server may have accepted it, so it is not retried in this
run (`UncertainDelivery`) and the outbox resends it once on the next run.

`deliver_outbox` sends what the store's outbox holds, marking each row `sending` before and
`sent` after. A run killed in between leaves it `sending`; the next run marks it `uncertain` and
resends it once, rebuilt from the store with the same Message-ID, so the desk never misses an
email and a mail client drops the copy it may already have (see factcheck.store).
`--dry-run` uses `EmlWriter` instead: each message becomes a `.eml` file and the outbox is left as
it was.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from pathlib import Path
from typing import Literal, Protocol

from .config import Settings, SmtpSettings
from .digest import DigestOptions, build_digest_message
from .errors import DeliveryError, InputError
from .report import render_html, render_text, verdict
from .serialize import report_to_json
from .store import EmailRow, Store
from .types import Report

logger = logging.getLogger(__name__)

SMTP_TIMEOUT = 30.0  # seconds for each SMTP command
SMTP_RETRIES = 3  # attempts after the first on a temporary failure
SMTP_BACKOFF = 2.0  # seconds before the first retry; doubles each time
MAX_EMAIL_ATTEMPTS = 5  # runs that try one queued email before it is left for a human
SUBJECT_CHARS = 180

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\u0085]+")


def clean_header(text: str | None, limit: int = SUBJECT_CHARS) -> str:
    """`text` made safe for a header: control characters (CR, LF, NUL…) become spaces, runs of
    spaces collapse, and it is cut to `limit` characters with an ellipsis."""
    flat = " ".join(_CONTROL.sub(" ", text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def parse_recipients(value: str | Sequence[str]) -> tuple[str, ...]:
    """Addresses from `--email` (comma-separated, repeatable), validated.

    Raises:
        InputError: an address is empty, holds a line break, or is not `local@domain`.
    """
    items = [value] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            out.append(_address(part, "--email"))
    if not out:
        raise InputError("no email address given; pass --email desk@example.org")
    return tuple(dict.fromkeys(out))


def _address(text: str, what: str) -> str:
    if _CONTROL.search(text):
        raise InputError(f"{what}: an address may not contain line breaks or control characters")
    try:
        addr = Address(addr_spec=text)
    except (ValueError, IndexError) as exc:
        raise InputError(f"{what}: not an email address: {text!r} ({exc})") from exc
    if not addr.username or "." not in addr.domain:
        raise InputError(f"{what}: not an email address: {text!r}; use local@domain")
    return addr.addr_spec


def sender_address(settings: Settings) -> str:
    """The From address: FACTCHECK_MAIL_FROM, else the contact address `settings.mailto`."""
    return _address(settings.smtp.mail_from or settings.mailto, "FACTCHECK_MAIL_FROM")


def make_message_id(key: str, mail_from: str) -> str:
    """A unique Message-ID for a queued email, on the sender's domain."""
    domain = mail_from.rpartition("@")[2] or "localhost"
    safe = re.sub(r"[^A-Za-z0-9.-]", "-", key)
    return f"<factcheck.{safe}.{uuid.uuid4().hex[:16]}@{domain}>"


def _base_message(subject: str, mail_from: str, to: Sequence[str], message_id: str,
                  date: datetime | None) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = clean_header(subject)
    msg["From"] = Address(display_name="factcheck", addr_spec=mail_from)
    msg["To"] = [Address(addr_spec=a) for a in to]
    msg["Date"] = format_datetime(date or datetime.now(UTC))
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Auto-Response-Suppress"] = "All"
    return msg


def _title(report: Report) -> str:
    return (report.article.title if report.article and report.article.title else report.source)


def build_story_message(report: Report, check_id: int, *, mail_from: str, to: Sequence[str],
                        message_id: str, date: datetime | None = None) -> EmailMessage:
    """One flagged story's email: its verdict in the subject, the full report, the JSON attached.

    Args:
        report: the story's Report.
        check_id: its id in the history (`factcheck history show ID`).
        mail_from: the sender address.
        to: recipient addresses.
        message_id: the Message-ID queued with the email.
        date: the Date header (now when None).
    """
    line, _ = verdict(report)
    short = line.split(":")[0]
    msg = _base_message(f"[factcheck] {short}: {_title(report)}", mail_from, to, message_id, date)
    text = render_text(report) + f"\nhistory id: {check_id} (factcheck history show {check_id})\n"
    msg.set_content(text, subtype="plain", charset="utf-8")
    msg.add_alternative(render_html(report, inline=True), subtype="html", charset="utf-8")
    msg.add_attachment(report_to_json(report).encode("utf-8"), maintype="application",
                       subtype="json", filename=f"factcheck-{check_id}.json")
    return msg


# -- senders ----------------------------------------------------------------------------------


class Sender(Protocol):
    """Where messages go: an SMTP server, or .eml files for a dry run."""

    def send(self, msg: EmailMessage, name: str) -> None: ...

    def close(self) -> None: ...


class UncertainDelivery(DeliveryError):
    """The connection broke while the message was being handed over; it may have been accepted."""


class _Temporary(Exception):
    pass


class SmtpSender:
    """Sends messages over one SMTP connection (reconnecting when it drops), with retries.

    Args:
        smtp: host, port, user, password, starttls, ssl from the settings.
        timeout: seconds for each SMTP command.
        retries: attempts after the first on a temporary failure.
        backoff: seconds before the first retry (doubling).
        context: the TLS context (the system's trusted CAs by default).
        sleep: the sleep function (tests pass a fast one).

    Raises:
        ConfigError-like InputError when no host is set (raised by `from_settings`).
    """

    def __init__(self, smtp: SmtpSettings, *, timeout: float = SMTP_TIMEOUT,
                 retries: int = SMTP_RETRIES, backoff: float = SMTP_BACKOFF,
                 context: ssl.SSLContext | None = None,
                 sleep: Callable[[float], None] = time.sleep):
        if not smtp.host:
            raise InputError("no SMTP server set: export FACTCHECK_SMTP_HOST (and PORT, USER, "
                             "PASSWORD), or use --dry-run to write the emails as .eml files")
        self.smtp = smtp
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.context = context
        self._sleep = sleep
        self._conn: smtplib.SMTP | None = None
        self._warned_clear = False

    def _context(self) -> ssl.SSLContext:
        return self.context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.smtp
        assert s.host
        where = f"{s.host}:{s.port}"
        implicit, starttls = transport_security(s)
        conn: smtplib.SMTP
        try:
            if implicit:
                conn = smtplib.SMTP_SSL(s.host, s.port, timeout=self.timeout,
                                        context=self._context())
            else:
                conn = smtplib.SMTP(s.host, s.port, timeout=self.timeout)
        except ssl.SSLError as exc:
            raise _tls_error(exc, where, "FACTCHECK_SMTP_SSL") from exc
        try:
            conn.ehlo()
            secure = implicit
            if starttls != "off" and conn.has_extn("starttls"):
                try:
                    conn.starttls(context=self._context())
                except ssl.SSLError as exc:
                    raise _tls_error(exc, where, "FACTCHECK_SMTP_STARTTLS") from exc
                conn.ehlo()
                secure = True
            elif starttls == "require":
                why = ("port 587 needs it" if s.starttls is None
                       else "FACTCHECK_SMTP_STARTTLS=1 asks for it")
                raise DeliveryError(
                    f"{where} does not offer STARTTLS and {why}; set FACTCHECK_SMTP_STARTTLS=0 to "
                    f"send without TLS (only to a server on a trusted network), or point "
                    f"FACTCHECK_SMTP_PORT at the server's TLS port (465 with "
                    f"FACTCHECK_SMTP_SSL=1)")
            if s.user:
                if not secure and not self._warned_clear:
                    self._warned_clear = True
                    logger.warning("smtp: logging in to %s without TLS, so the password goes in "
                                   "clear; set FACTCHECK_SMTP_STARTTLS=1 (or FACTCHECK_SMTP_SSL=1) "
                                   "for a server that offers TLS", where)
                self._login(conn, where)
        except BaseException:
            _quiet_close(conn)
            raise
        logger.debug("smtp: connected to %s (%s)", where,
                     "implicit TLS" if implicit else f"STARTTLS {starttls}")
        return conn

    def _login(self, conn: smtplib.SMTP, where: str) -> None:
        s = self.smtp
        try:
            conn.login(s.user or "", s.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            if 400 <= exc.smtp_code < 500:
                raise  # a temporary authentication failure (454): retried by the caller
            raise DeliveryError(f"{where} refused the login of {s.user!r}: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}; check FACTCHECK_SMTP_USER/PASSWORD "
                                f"(and that TLS is on if the server wants it before AUTH: "
                                f"FACTCHECK_SMTP_STARTTLS=1)") from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise DeliveryError(f"{where} does not offer AUTH, but FACTCHECK_SMTP_USER is set; "
                                f"unset FACTCHECK_SMTP_USER/PASSWORD for a server that needs no "
                                f"login, or turn TLS on (FACTCHECK_SMTP_STARTTLS=1): many "
                                f"servers offer AUTH only after STARTTLS") from exc

    def _ready(self) -> smtplib.SMTP:
        """An open connection, checked with NOOP so a stale one is replaced before sending."""
        if self._conn is not None:
            try:
                code, _ = self._conn.noop()
                if code == 250:
                    return self._conn
            except (smtplib.SMTPException, OSError):
                pass
            _quiet_close(self._conn)
            self._conn = None
        self._conn = self._connect()
        return self._conn

    def send(self, msg: EmailMessage, name: str) -> None:
        """Send `msg`, retrying temporary failures.

        Raises:
            DeliveryError: a permanent failure, or temporary ones past the retries.
            UncertainDelivery: the connection broke while the message was handed over.
        """
        attempts = self.retries + 1
        for attempt in range(attempts):
            try:
                self._try_send(msg, name)
                return
            except _Temporary as exc:
                if attempt + 1 == attempts:
                    raise DeliveryError(f"email {name} not sent after {attempts} attempts: "
                                        f"{exc}") from None
                wait = self.backoff * 2 ** attempt
                logger.warning("email %s: temporary failure, retrying in %.1fs: %s",
                               name, wait, exc)
                self._sleep(wait)

    def _try_send(self, msg: EmailMessage, name: str) -> None:
        host = f"{self.smtp.host}:{self.smtp.port}"
        try:
            conn = self._ready()
        except smtplib.SMTPResponseException as exc:
            self._drop()
            if 400 <= exc.smtp_code < 500:
                raise _Temporary(f"{host} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise DeliveryError(f"{host} refused us: {exc.smtp_code} {_text(exc.smtp_error)}; "
                                f"check FACTCHECK_SMTP_USER/PASSWORD and the TLS settings") from exc
        except (smtplib.SMTPException, OSError) as exc:
            self._drop()
            raise _Temporary(f"cannot reach {host}: {exc}") from exc
        try:
            refused = conn.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            if all(400 <= c < 500 for c in codes):
                raise _Temporary(f"{host} deferred every recipient: {exc.recipients}") from exc
            raise DeliveryError(f"{host} refused the recipients of {name}: "
                                f"{_refusals(exc.recipients)}; check the --email address") from exc
        except smtplib.SMTPSenderRefused as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Temporary(f"{host} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise DeliveryError(f"{host} refused the sender {_text(exc.sender)} of {name}: "
                                f"{exc.smtp_code} {_text(exc.smtp_error)}; set FACTCHECK_MAIL_FROM "
                                f"to an address this server sends for") from exc
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise _Temporary(f"{host} answered {exc.smtp_code} {_text(exc.smtp_error)}") from exc
            raise DeliveryError(f"{host} refused {name}: {exc.smtp_code} "
                                f"{_text(exc.smtp_error)}") from exc
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            self._drop()
            raise UncertainDelivery(f"the connection to {host} broke while {name} was being "
                                    f"sent; it may have arrived, so the next run resends it "
                                    f"with the same Message-ID: {exc}") from exc
        if refused:
            logger.warning("email %s: some recipients refused: %s", name, _refusals(refused))
        logger.info("email sent: %s (%s)", name, msg["Message-ID"])

    def _drop(self) -> None:
        if self._conn is not None:
            _quiet_close(self._conn)
            self._conn = None

    def close(self) -> None:
        """Say QUIT and close the connection."""
        if self._conn is not None:
            try:
                self._conn.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                _quiet_close(self._conn)
                self._conn = None


def transport_security(smtp: SmtpSettings) -> tuple[bool, Literal["require", "offer", "off"]]:
    """How `SmtpSender` secures its connection: (implicit TLS?, STARTTLS mode).

    `smtp.ssl` / `smtp.starttls` set (True or False) are obeyed; unset, they follow the port:
    465 implicit TLS, 587 STARTTLS required, any other port STARTTLS when the server offers it.
    """
    implicit = smtp.ssl if smtp.ssl is not None else (smtp.port == 465
                                                      and smtp.starttls is not True)
    if implicit:
        return True, "off"
    if smtp.starttls is not None:
        return False, "require" if smtp.starttls else "off"
    return False, "require" if smtp.port == 587 else "offer"


def _tls_error(exc: ssl.SSLError, where: str, setting: str) -> Exception:
    """A TLS handshake failure: a dropped connection is temporary; anything else (a plain
    server on the other end, an untrusted certificate) will fail the same way every time."""
    if isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
        return _Temporary(f"the TLS handshake with {where} was cut off: {exc}")
    return DeliveryError(f"the TLS handshake with {where} failed: {exc}; check {setting} and "
                         f"FACTCHECK_SMTP_PORT (465 is implicit TLS, 587 STARTTLS) and that the "
                         f"server's certificate is trusted")


def _quiet_close(conn: smtplib.SMTP) -> None:
    try:
        conn.close()
    except OSError:
        pass


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _refusals(refused: dict) -> str:
    return "; ".join(f"{addr} ({code} {_text(text)})" for addr, (code, text) in refused.items())


class EmlWriter:
    """A dry run's sender: each message becomes `<folder>/<name>.eml`.

    Args:
        folder: where the files go (made when missing).
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.written: list[Path] = []

    def send(self, msg: EmailMessage, name: str) -> None:
        """Write `msg` as `<name>.eml` (replacing a file of that name: one file per email)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{re.sub(r'[^A-Za-z0-9._-]', '_', name)}.eml"
        tmp = path.with_suffix(".eml.tmp")
        tmp.write_bytes(msg.as_bytes())
        tmp.replace(path)
        self.written.append(path)
        logger.info("email written: %s", path)

    def close(self) -> None:
        """Nothing to close."""


@dataclass
class DeliveryResult:
    """What `deliver_outbox` did."""

    sent: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    uncertain: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)  # sent again after an interrupted run
    given_up: list[str] = field(default_factory=list)  # past MAX_EMAIL_ATTEMPTS, left alone

    @property
    def undelivered(self) -> int:
        """Emails this delivery tried and did not get to the server for sure."""
        return len(self.failed) + len(self.uncertain)


def build_message(store: Store, row: EmailRow, mail_from: str,
                  digest: DigestOptions | None = None) -> EmailMessage | None:
    """The message for one outbox row, rebuilt from what the store holds."""
    if row.kind == "digest":
        return build_digest_message(store, row.key, mail_from=mail_from, to=row.recipients,
                                    message_id=row.message_id, options=digest)
    assert row.check_id is not None
    return build_story_message(store.get_report(row.check_id), row.check_id,
                               mail_from=mail_from, to=row.recipients,
                               message_id=row.message_id)


def deliver_outbox(store: Store, sender: Sender, mail_from: str, *,
                   dry_run: bool = False, digest: DigestOptions | None = None) -> DeliveryResult:
    """Send every pending email in the outbox (story emails first, then digests).

    Each row is marked `sending` (committed) before the SMTP conversation and `sent` after it.
    A run killed in between leaves it `sending`; the next run's `Store.recover_interrupted` marks
    it `uncertain` and this function resends it once, rebuilt with the same Message-ID (listed
    in `resent`). A dry run writes the files and leaves the outbox untouched.

    Args:
        store: the history store holding the outbox.
        sender: an SmtpSender, or an EmlWriter for a dry run.
        mail_from: the From address.
        dry_run: do not change the outbox states.
        digest: how digests are written (links to the web app, the size cap).

    Returns:
        The keys sent (and of those, resent), the files written, the failures, the uncertain
        ones and those left for a human after MAX_EMAIL_ATTEMPTS runs.
    """
    result = DeliveryResult()
    for row in store.pending_emails():
        if row.attempts >= MAX_EMAIL_ATTEMPTS:
            logger.warning("email %s failed %s times; left for a human: %s", row.key,
                           row.attempts, row.error)
            result.given_up.append(row.key)
            continue
        msg = build_message(store, row, mail_from, digest)
        if msg is None:
            if not dry_run:
                store.mark_email(row.key, "sent", "nothing to report")
            continue
        if dry_run:
            sender.send(msg, row.key)
            continue
        resend = row.state == "uncertain"
        store.mark_email(row.key, "sending")
        try:
            sender.send(msg, row.key)
        except UncertainDelivery as exc:
            store.mark_email(row.key, "uncertain", str(exc))
            result.uncertain.append(row.key)
            logger.error("email may not have been sent: %s: %s", row.key, exc)
            continue
        except DeliveryError as exc:
            store.mark_email(row.key, "failed", str(exc))
            result.failed.append((row.key, str(exc)))
            logger.error("email not sent: %s: %s", row.key, exc)
            continue
        store.mark_email(row.key, "sent")
        result.sent.append(row.key)
        if resend:
            result.resent.append(row.key)
            logger.info("email resent after an interrupted run: %s (same Message-ID %s)",
                        row.key, row.message_id)
    if isinstance(sender, EmlWriter):
        result.written = list(sender.written)
    return result


__all__ = ["DeliveryResult", "EmlWriter", "Sender", "SmtpSender", "UncertainDelivery",
           "build_digest_message", "build_message", "build_story_message", "clean_header",
           "deliver_outbox", "make_message_id", "parse_recipients", "sender_address",
           "transport_security"]
