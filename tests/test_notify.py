"""Email: built with EmailMessage, sent to a real SMTP server (aiosmtpd) started by the test."""

from __future__ import annotations

import json
from dataclasses import replace
from email.utils import parsedate_to_datetime

import pytest
from smtp_stand_in import SmtpStandIn
from test_report import make_report

from factcheck.config import load_settings
from factcheck.errors import DeliveryError, InputError
from factcheck.notify import (
    EmlWriter,
    SmtpSender,
    build_story_message,
    clean_header,
    deliver_outbox,
    make_message_id,
    parse_recipients,
)
from factcheck.store import Store

EVIL_TITLE = "Pill cures colds\r\nBcc: victim@evil.example\nX-Injected: yes"


def _evil_report():
    report = make_report()
    return replace(report, article=replace(report.article, title=EVIL_TITLE))


def _settings(tmp_path, smtp: SmtpStandIn):
    return load_settings(env={**smtp.env, "FACTCHECK_CACHE": str(tmp_path / "state")})


def _sender(settings, **kw):
    return SmtpSender(settings.smtp, timeout=5.0, retries=kw.pop("retries", 3),
                      backoff=0.01, **kw)


def test_notify_clean_header_strips_line_breaks():
    assert clean_header("a\r\nBcc: x\tb\x00c") == "a Bcc: x b c"
    assert len(clean_header("x" * 500)) == 180


def test_notify_parse_recipients():
    assert parse_recipients(["desk@news.example, night@news.example", "desk@news.example"]) == (
        "desk@news.example", "night@news.example")
    for bad in ("not-an-address", "desk@news.example\r\nBcc: x@evil.example", ""):
        with pytest.raises(InputError):
            parse_recipients(bad)


def test_notify_story_message_over_real_smtp(tmp_path):
    with SmtpStandIn(auth=("fc-user", "s3cret")) as smtp:
        settings = _settings(tmp_path, smtp)
        msg = build_story_message(_evil_report(), 7, mail_from="factcheck@news.example",
                                  to=["desk@news.example"],
                                  message_id=make_message_id("story-7", "factcheck@news.example"))
        sender = _sender(settings)
        sender.send(msg, "story-7")
        sender.close()
        assert len(smtp.messages) == 1
        got = smtp.messages[0]
    # structure: mixed( alternative(plain, html), json attachment )
    assert got.get_content_type() == "multipart/mixed"
    parts = list(got.iter_parts())
    assert parts[0].get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parts[0].iter_parts()] == ["text/plain", "text/html"]
    attachment = parts[1]
    assert attachment.get_content_type() == "application/json"
    assert attachment.get_filename() == "factcheck-7.json"
    data = json.loads(attachment.get_content())
    assert data["findings"][0]["article_quote"] == "cut cold duration by 3 days"
    html = parts[0].get_body(("html",)).get_content()
    assert "<script>alert(1)</script>" not in html and 'style="' in html
    text = parts[0].get_body(("plain",)).get_content()
    assert "[HIGH] number_mismatch" in text and "history show 7" in text
    # headers: one line each, nothing injected
    assert "\n" not in str(got["Subject"]) and "\r" not in str(got["Subject"])
    assert str(got["Subject"]).startswith("[factcheck] Needs correction: Pill cures colds Bcc:")
    assert got["Bcc"] is None and got["X-Injected"] is None
    assert smtp.envelopes[0] == ("factcheck@news.example", ["desk@news.example"])
    assert str(got["From"]) == "factcheck <factcheck@news.example>"
    assert str(got["To"]) == "desk@news.example"
    assert str(got["Message-ID"]).endswith("@news.example>")
    assert parsedate_to_datetime(str(got["Date"])).tzinfo is not None
    assert str(got["Auto-Submitted"]) == "auto-generated"


def test_notify_temporary_failure_then_success(tmp_path):
    slept: list[float] = []
    with SmtpStandIn() as smtp:
        settings = _settings(tmp_path, smtp)
        smtp.defer(2)
        msg = build_story_message(make_report(), 1, mail_from="factcheck@news.example",
                                  to=["desk@news.example"], message_id="<a.1@news.example>")
        sender = _sender(settings, sleep=slept.append)
        sender.send(msg, "story-1")
        sender.close()
        assert smtp.attempts == 3
        assert smtp.message_ids() == ["<a.1@news.example>"]
    assert slept == [0.01, 0.02]  # exponential backoff


def test_notify_permanent_failure_is_not_retried(tmp_path):
    with SmtpStandIn() as smtp:
        settings = _settings(tmp_path, smtp)
        smtp.reject(1)
        msg = build_story_message(make_report(), 1, mail_from="factcheck@news.example",
                                  to=["desk@news.example"], message_id="<a.2@news.example>")
        sender = _sender(settings, sleep=lambda s: None)
        with pytest.raises(DeliveryError, match="554"):
            sender.send(msg, "story-1")
        sender.close()
        assert smtp.attempts == 1 and not smtp.messages


def test_notify_wrong_password_is_a_clear_error(tmp_path):
    with SmtpStandIn(auth=("fc-user", "s3cret")) as smtp:
        settings = _settings(tmp_path, smtp)
        settings = settings.with_(smtp=replace(settings.smtp, password="wrong"))
        msg = build_story_message(make_report(), 1, mail_from="factcheck@news.example",
                                  to=["desk@news.example"], message_id="<a.3@news.example>")
        with pytest.raises(DeliveryError, match="FACTCHECK_SMTP_USER/PASSWORD"):
            _sender(settings, sleep=lambda s: None).send(msg, "story-1")


def test_notify_unreachable_server_retries_then_fails(tmp_path):
    with SmtpStandIn() as smtp:
        settings = _settings(tmp_path, smtp)
    # the server is stopped now: connection refused is temporary, retried, then reported
    slept: list[float] = []
    msg = build_story_message(make_report(), 1, mail_from="factcheck@news.example",
                              to=["desk@news.example"], message_id="<a.4@news.example>")
    with pytest.raises(DeliveryError, match="not sent after 3 attempts"):
        _sender(settings, retries=2, sleep=slept.append).send(msg, "story-1")
    assert len(slept) == 2


def test_notify_outbox_sends_once(tmp_path):
    with SmtpStandIn() as smtp:
        settings = _settings(tmp_path, smtp)
        with Store.from_settings(settings) as store:
            check_id = store.record_check(make_report(), story_id=None, email_to=["d@news.example"],
                                          message_id="<s.1@news.example>")
            # record_check queues email only for flagged stories with recipients
            assert store.email(f"story-{check_id}").state == "pending"
            sender = _sender(settings)
            first = deliver_outbox(store, sender, "factcheck@news.example")
            second = deliver_outbox(store, sender, "factcheck@news.example")
            sender.close()
            assert first.sent == [f"story-{check_id}"] and second.sent == []
            assert store.email(f"story-{check_id}").state == "sent"
        assert smtp.message_ids() == ["<s.1@news.example>"]


def test_notify_dry_run_writes_eml_and_keeps_outbox(tmp_path):
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path / "state")})
    with Store.from_settings(settings) as store:
        check_id = store.record_check(make_report(), email_to=["d@news.example"],
                                      message_id="<s.2@news.example>")
        writer = EmlWriter(tmp_path / "out")
        result = deliver_outbox(store, writer, "factcheck@news.example", dry_run=True)
        assert [p.name for p in result.written] == [f"story-{check_id}.eml"]
        assert store.email(f"story-{check_id}").state == "pending"
    raw = (tmp_path / "out" / f"story-{check_id}.eml").read_bytes()
    assert b"multipart/alternative" in raw and b"Message-ID: <s.2@news.example>" in raw
