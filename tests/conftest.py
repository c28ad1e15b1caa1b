"""Shared fixtures: paths, settings with a private cache, and the shared/ folder (skip if absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

from factcheck.config import Settings, load_settings
from factcheck.rules import Rules, load_rules

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = REPO / "corpora" / "cases"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def rules() -> Rules:
    return load_rules()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with the cache in a temp folder and quick retries (no real sleeping)."""
    return load_settings(env={"FACTCHECK_CACHE": str(tmp_path / "cache")}).with_(
        backoff=0.01, retries=2, connect_timeout=2.0, read_timeout=5.0)


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "seed" / "story.txt").is_file():
        pytest.skip("../shared is absent")
    return SHARED


@pytest.fixture(scope="session")
def analyzer(rules: Rules):
    """The default NLP pipeline, built once for the whole test session."""
    from factcheck.nlp import load_nlp
    return load_nlp(load_settings(env={"FACTCHECK_CACHE": str(REPO / ".pytest_cache" / "fc")}),
                    rules)
