"""The shared HTTP layer and the settings it reads: redaction, Retry-After, limiter, bad URLs."""

from __future__ import annotations

import email.utils
import time

import pytest
import requests
import responses

from factcheck._http import RateLimiter, TransportError, _retry_after, get, make_session, redact
from factcheck.config import load_settings
from factcheck.errors import ConfigError


def test_http_redact_masks_credentials_and_contact():
    text = "url: /efetch.fcgi?db=pubmed&id=1&tool=factcheck&email=a@b.org&api_key=SEKRET123)"
    masked = redact(text)
    assert "SEKRET123" not in masked and "a@b.org" not in masked
    assert "api_key=***" in masked and "tool=factcheck" in masked


@pytest.mark.parametrize("header,expected", [("2", 2.0), ("0", 0.0), ("soon", None), ("", None),
                                              ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0)])
def test_http_retry_after_forms(header, expected):
    assert _retry_after(header) == expected


def test_http_retry_after_date_in_the_future():
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= (_retry_after(later) or 0) <= 31


@responses.activate
def test_http_gives_up_when_retry_after_is_longer_than_we_wait(tmp_path):
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path)}).with_(
        retries=3, backoff=0.01, max_retry_after=5.0)
    responses.get("http://service.test/x", status=429, headers={"Retry-After": "3600"})
    slept: list[float] = []
    resp = get(make_session(settings), "http://service.test/x", settings, sleep=slept.append)
    assert resp.status == 429 and slept == [] and len(responses.calls) == 1


@responses.activate
def test_http_429_defers_the_shared_limiter(tmp_path):
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path)}).with_(retries=1, backoff=0.01)
    responses.get("http://service.test/x", status=429, headers={"Retry-After": "2"})
    responses.get("http://service.test/x", status=200, body="ok")
    now = [100.0]
    limiter = RateLimiter(1000.0, clock=lambda: now[0], sleep=lambda s: None)
    resp = get(make_session(settings), "http://service.test/x", settings, limiter=limiter,
               sleep=lambda s: None)
    assert resp.status == 200
    assert limiter._next >= 102.0  # other threads of the run wait out the Retry-After too


@responses.activate
def test_http_connection_error_message_has_no_secret(tmp_path):
    settings = load_settings(env={"FACTCHECK_CACHE": str(tmp_path)}).with_(retries=0)
    responses.get("http://service.test/x", body=requests.ConnectionError(
        "Max retries exceeded with url: /x?api_key=SEKRET123"))
    with pytest.raises(TransportError) as caught:
        get(make_session(settings), "http://service.test/x", settings,
            params={"api_key": "SEKRET123"})
    assert "SEKRET123" not in str(caught.value)


@pytest.mark.parametrize("url", ["127.0.0.1:8080/pubmed", "ftp://mirror.example/pubmed", "http://"])
def test_http_service_url_must_be_http_with_a_host(tmp_path, url):
    with pytest.raises(ConfigError, match="FACTCHECK_PUBMED_URL"):
        load_settings(env={"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_PUBMED_URL": url})


def test_http_smtp_ssl_defaults_to_port_465(tmp_path):
    env = {"FACTCHECK_CACHE": str(tmp_path), "FACTCHECK_SMTP_SSL": "1"}
    assert load_settings(env=env).smtp.port == 465
    assert load_settings(env={"FACTCHECK_CACHE": str(tmp_path)}).smtp.port == 587
