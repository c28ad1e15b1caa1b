"""SMTP transport security and permanent failures (issue 12), against real aiosmtpd servers.

Unset FACTCHECK_SMTP_STARTTLS / FACTCHECK_SMTP_SSL follow the port; a failure that will not pass
by waiting (no STARTTLS where it is required, a TLS handshake with a plain server, a refused
login, sender or recipient) fails at once and names the setting to change; only 4xx replies and
connection problems are retried.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import pytest
from smtp_stand_in import SmtpStandIn
from test_report import make_report

from factcheck.config import SmtpSettings, load_settings
from factcheck.errors import DeliveryError
from factcheck.notify import SMTP_BACKOFF, SmtpSender, build_story_message, transport_security

# With the real backoff (2 s, doubling, 3 retries) a retried failure takes about 14 s; a
# permanent one must come back well before that.
AT_ONCE = 5.0


def _msg(n: int = 1):
    return build_story_message(make_report(), n, mail_from="factcheck@news.example",
                               to=["desk@news.example"], message_id=f"<sec.{n}@news.example>")


def _smtp(server: SmtpStandIn, **env: str) -> SmtpSettings:
    return load_settings(env={**server.env_minimal, **env}).smtp


@pytest.mark.parametrize(("port", "starttls", "ssl", "expected"), [
    (465, None, None, (True, "off")),
    (587, None, None, (False, "require")),
    (25, None, None, (False, "offer")),
    (1025, None, None, (False, "offer")),
    (8025, None, None, (False, "offer")),
    (587, False, None, (False, "off")),       # told: no STARTTLS, even on 587
    (25, True, None, (False, "require")),     # told: STARTTLS required
    (465, True, None, (False, "require")),    # STARTTLS asked for on 465: no implicit TLS
    (2525, None, True, (True, "off")),        # told: implicit TLS on any port
    (465, None, False, (False, "offer")),
])
def test_mail_security_follows_the_port_unless_told(port, starttls, ssl, expected):
    smtp = SmtpSettings(host="mail.example", port=port, starttls=starttls, ssl=ssl)
    assert transport_security(smtp) == expected


def test_mail_only_host_and_port_against_a_plain_server_delivers():
    with SmtpStandIn() as server:
        sender = SmtpSender(_smtp(server), timeout=5.0)
        sender.send(_msg(), "story-1")
        sender.close()
        assert server.message_ids() == ["<sec.1@news.example>"]
        assert server.tls_deliveries == [False]


def test_mail_starttls_is_used_when_the_server_offers_it():
    with SmtpStandIn(starttls=True) as server:
        sender = SmtpSender(_smtp(server), timeout=5.0, context=server.client_context())
        sender.send(_msg(), "story-1")
        sender.close()
        assert server.tls_deliveries == [True]


def test_mail_login_after_starttls_and_no_warning(caplog):
    with SmtpStandIn(auth=("fc-user", "s3cret"), starttls=True) as server:
        smtp = _smtp(server, FACTCHECK_SMTP_USER="fc-user", FACTCHECK_SMTP_PASSWORD="s3cret")
        with caplog.at_level(logging.WARNING, logger="factcheck.notify"):
            sender = SmtpSender(smtp, timeout=5.0, context=server.client_context())
            sender.send(_msg(), "story-1")
            sender.close()
        assert server.tls_deliveries == [True]
    assert "in clear" not in caplog.text


def test_mail_credentials_in_clear_are_warned_about(caplog):
    with SmtpStandIn(auth=("fc-user", "s3cret")) as server:
        smtp = _smtp(server, FACTCHECK_SMTP_USER="fc-user", FACTCHECK_SMTP_PASSWORD="s3cret")
        with caplog.at_level(logging.WARNING, logger="factcheck.notify"):
            sender = SmtpSender(smtp, timeout=5.0)
            sender.send(_msg(1), "story-1")
            sender.send(_msg(2), "story-2")
            sender.close()
        assert len(server.messages) == 2
    warnings = [r for r in caplog.records if "in clear" in r.getMessage()]
    assert len(warnings) == 1  # once per sender, not per message
    assert "FACTCHECK_SMTP_STARTTLS" in warnings[0].getMessage()


def _fails_at_once(sender: SmtpSender, match: str) -> DeliveryError:
    started = time.monotonic()
    with pytest.raises(DeliveryError, match=match) as caught:
        sender.send(_msg(), "story-1")
    assert time.monotonic() - started < AT_ONCE
    sender.close()
    return caught.value


def test_mail_starttls_required_but_not_offered_fails_at_once_naming_the_setting():
    with SmtpStandIn() as server:
        sender = SmtpSender(_smtp(server, FACTCHECK_SMTP_STARTTLS="1"), timeout=5.0,
                            backoff=SMTP_BACKOFF)
        error = _fails_at_once(sender, "does not offer STARTTLS")
        assert "FACTCHECK_SMTP_STARTTLS=0" in str(error)
        assert server.messages == []


def test_mail_implicit_tls_against_a_plain_server_fails_at_once():
    with SmtpStandIn() as server:
        sender = SmtpSender(_smtp(server, FACTCHECK_SMTP_SSL="1"), timeout=5.0,
                            backoff=SMTP_BACKOFF)
        _fails_at_once(sender, "FACTCHECK_SMTP_SSL")


def test_mail_untrusted_certificate_fails_at_once():
    with SmtpStandIn(starttls=True) as server:
        # the system's CAs do not know the stand-in's self-signed certificate
        sender = SmtpSender(_smtp(server), timeout=5.0, backoff=SMTP_BACKOFF)
        _fails_at_once(sender, "certificate")
        assert server.messages == []


def test_mail_refused_login_fails_at_once():
    with SmtpStandIn(auth=("fc-user", "s3cret")) as server:
        smtp = _smtp(server, FACTCHECK_SMTP_USER="fc-user", FACTCHECK_SMTP_PASSWORD="wrong")
        sender = SmtpSender(smtp, timeout=5.0, backoff=SMTP_BACKOFF)
        _fails_at_once(sender, "535.*FACTCHECK_SMTP_USER/PASSWORD")


def test_mail_refused_sender_names_mail_from():
    with SmtpStandIn() as server:
        server.refuse_sender = "550 5.7.1 we do not relay for news.example"
        sender = SmtpSender(_smtp(server), timeout=5.0, backoff=SMTP_BACKOFF)
        _fails_at_once(sender, "550.*FACTCHECK_MAIL_FROM")
        assert server.attempts == 0


def test_mail_refused_recipient_names_the_email_option():
    with SmtpStandIn() as server:
        server.refuse_recipient = "550 5.1.1 no such user"
        sender = SmtpSender(_smtp(server), timeout=5.0, backoff=SMTP_BACKOFF)
        _fails_at_once(sender, "desk@news.example.*550.*--email")


def test_mail_deferred_sender_is_still_temporary():
    slept: list[float] = []
    with SmtpStandIn() as server:
        server.refuse_sender = "451 4.3.0 greylisted, try later"
        smtp = replace(_smtp(server))
        sender = SmtpSender(smtp, timeout=5.0, retries=2, backoff=0.01, sleep=slept.append)
        with pytest.raises(DeliveryError, match="not sent after 3 attempts"):
            sender.send(_msg(), "story-1")
        sender.close()
    assert slept == [0.01, 0.02]
