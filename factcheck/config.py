"""Settings: shipped defaults.toml, then an optional user file, then the environment.

The environment holds secrets, paths and service base URLs only:
FACTCHECK_PUBMED_URL, FACTCHECK_EUROPEPMC_URL, FACTCHECK_CROSSREF_URL, FACTCHECK_OPENALEX_URL,
FACTCHECK_CLINICALTRIALS_URL (the trial registry's API, read by factcheck.landing),
FACTCHECK_QUEUE_URL (the Redis of the queue backend; unset: checks run in-process),
NCBI_API_KEY, OPENALEX_API_KEY, FACTCHECK_MAILTO, FACTCHECK_CACHE, FACTCHECK_CONFIG and the
FACTCHECK_SMTP_* / FACTCHECK_MAIL_FROM variables of the nightly job.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

import platformdirs

from .errors import ConfigError

_ENV_URLS = {
    "pubmed": "FACTCHECK_PUBMED_URL",
    "europepmc": "FACTCHECK_EUROPEPMC_URL",
    "crossref": "FACTCHECK_CROSSREF_URL",
    "openalex": "FACTCHECK_OPENALEX_URL",
    "clinicaltrials": "FACTCHECK_CLINICALTRIALS_URL",
}


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str | None = None
    port: int = 587
    user: str | None = None
    password: str | None = None
    # None: follow the port (465 implicit TLS; 587 STARTTLS required; 25, 1025, 8025 and others
    # STARTTLS when the server offers it, plain otherwise, with a warning if credentials are set)
    starttls: bool | None = None
    ssl: bool | None = None
    mail_from: str | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Every knob factcheck has, resolved once per process."""

    connect_timeout: float
    read_timeout: float
    retries: int
    backoff: float
    max_retry_after: float
    max_page_bytes: int
    max_redirects: int
    mailto: str
    service_order: tuple[str, ...]
    service_urls: Mapping[str, str]
    service_rates: Mapping[str, float]
    tool: str
    cache_dir: Path
    cache_ttl: int
    min_article_chars: int
    nlp_model: str
    use_model_if_installed: bool
    ncbi_api_key: str | None = None
    openalex_api_key: str | None = None
    offline: bool = False
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    page_cache: bool = True
    host_delay: float = 2.0
    browser: str = ""
    render_timeout: float = 30.0
    max_secondary_papers: int = 2
    search_cache_ttl: int = 86_400
    max_landing_pages: int = 3
    max_new_stories: int = 200  # feed job: new stories checked per run (0: no cap)
    page_deadline: float = 30.0  # seconds one page or service answer may take in total
    check_budget: float = 90.0  # seconds one check may take in total (0: no budget)
    web_workers: int = 4  # checks the web app runs at once; more wait in a fair queue
    web_allow_hosts: tuple[str, ...] = ()  # internal hosts or CIDRs the web app may fetch
    web_server_names: tuple[str, ...] = ()  # Host values the web app answers to (empty: bind address)
    queue_url: str = ""  # redis://... of the queue backend; empty: checks run in this process
    per_story_emails: bool = False  # feed: one email per flagged story besides the run's digest
    digest_max_kb: int = 200  # the digest's HTML stays under this many KB
    web_public_url: str = ""  # the web app's address, for links from emails to /checks/ID

    @property
    def timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    def with_(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]


def _read_toml(path: Path | str, text: str | None = None) -> dict:
    try:
        return tomllib.loads(text if text is not None else Path(path).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"settings file not found: {path}", path=str(path)) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read settings file {path}: {exc}", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"settings file {path} is not valid TOML: {exc}", path=str(path)) from exc


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def _flag(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _tristate(value: str | None) -> bool | None:
    """An on/off variable that may be unset (None: the default follows from other settings)."""
    if value is None or value.strip() == "":
        return None
    return _flag(value, False)


def load_settings(config_file: str | Path | None = None,
                  env: Mapping[str, str] | None = None, offline: bool = False) -> Settings:
    """Build the Settings for this process.

    Args:
        config_file: a TOML file whose keys override the shipped defaults; `$FACTCHECK_CONFIG` if None.
        env: the environment to read (os.environ by default; tests pass their own).
        offline: answer only from the cache and local files.

    Raises:
        ConfigError: a settings file is missing or invalid, or a value has the wrong type.
    """
    env = os.environ if env is None else env
    default_text = resources.files("factcheck").joinpath("defaults.toml").read_text("utf-8")
    data = _read_toml("defaults.toml", default_text)
    config_file = config_file or env.get("FACTCHECK_CONFIG")
    if config_file:
        data = _merge(data, _read_toml(config_file))
    try:
        http, services = data["http"], data["services"]
        urls = {name: env.get(var) or services[f"{name}_url"] for name, var in _ENV_URLS.items()}
        for name, url in urls.items():
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ConfigError(f"the {name} service URL {url!r} is not an http(s) URL with a "
                                  f"host; fix {_ENV_URLS[name]} or services.{name}_url",
                                  key=_ENV_URLS[name])
        ncbi_key = env.get("NCBI_API_KEY") or None
        rates = {name: float(services[f"{name}_rate"]) for name in _ENV_URLS}
        if ncbi_key:
            rates["pubmed"] = float(services["pubmed_rate_with_key"])
        cache_dir = Path(env.get("FACTCHECK_CACHE") or platformdirs.user_cache_dir("factcheck"))
        smtp = SmtpSettings(
            host=env.get("FACTCHECK_SMTP_HOST") or None,
            port=int(env.get("FACTCHECK_SMTP_PORT") or
                     (465 if _flag(env.get("FACTCHECK_SMTP_SSL"), False) else 587)),
            user=env.get("FACTCHECK_SMTP_USER") or None,
            password=env.get("FACTCHECK_SMTP_PASSWORD") or None,
            starttls=_tristate(env.get("FACTCHECK_SMTP_STARTTLS")),
            ssl=_tristate(env.get("FACTCHECK_SMTP_SSL")),
            mail_from=env.get("FACTCHECK_MAIL_FROM") or None,
        )
        return Settings(
            connect_timeout=float(http["connect_timeout"]),
            read_timeout=float(http["read_timeout"]),
            retries=int(http["retries"]),
            backoff=float(http["backoff"]),
            max_retry_after=float(http["max_retry_after"]),
            max_page_bytes=int(http["max_page_bytes"]),
            max_redirects=int(http["max_redirects"]),
            mailto=env.get("FACTCHECK_MAILTO") or http["mailto"],
            service_order=tuple(services["order"]),
            service_urls=urls,
            service_rates=rates,
            tool=str(services["tool"]),
            cache_dir=cache_dir,
            cache_ttl=int(data["cache"]["ttl"]),
            search_cache_ttl=int(data["cache"].get("search_ttl", 86_400)),
            min_article_chars=int(data["article"]["min_article_chars"]),
            nlp_model=str(data["nlp"]["model"]),
            use_model_if_installed=bool(data["nlp"]["use_model_if_installed"]),
            ncbi_api_key=ncbi_key,
            openalex_api_key=env.get("OPENALEX_API_KEY") or None,
            offline=offline,
            smtp=smtp,
            page_cache=bool(data.get("fetch", {}).get("page_cache", True)),
            host_delay=float(data.get("fetch", {}).get("host_delay", 2.0)),
            browser=str(data.get("fetch", {}).get("browser", "")),
            render_timeout=float(data.get("fetch", {}).get("render_timeout", 30.0)),
            max_landing_pages=int(data.get("fetch", {}).get("max_landing_pages", 3)),
            max_new_stories=max(0, int(data.get("fetch", {}).get("max_new_stories", 200))),
            page_deadline=float(http.get("page_deadline", 30.0)),
            web_workers=max(1, int(data.get("web", {}).get("workers", 4))),
            web_allow_hosts=tuple(str(h) for h in data.get("web", {}).get("allow_hosts", [])),
            web_server_names=tuple(str(h) for h in data.get("web", {}).get("server_names", [])),
            queue_url=env.get("FACTCHECK_QUEUE_URL") or str(data.get("queue", {}).get("url", "")),
            per_story_emails=bool(data.get("mail", {}).get("per_story", False)),
            digest_max_kb=max(20, int(data.get("mail", {}).get("digest_max_kb", 200))),
            web_public_url=str(data.get("web", {}).get("public_url", "")),
            check_budget=max(0.0, float(data.get("check", {}).get("budget", 90.0))),
            max_secondary_papers=int(services.get("max_secondary_papers", 2)),
        )
    except KeyError as exc:
        raise ConfigError(f"missing setting {exc.args[0]!r}", key=str(exc.args[0])) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"a setting has the wrong type: {exc}") from exc
