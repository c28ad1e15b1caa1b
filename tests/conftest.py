"""Shared fixtures: paths, settings with a private cache, and the shared/ folder (skip if absent).

Hypothesis: `HYPOTHESIS_PROFILE=ci` (set by .ci/run) makes the property tests draw the same
examples on every run, so a landing is not decided by a new random example; runs without it
explore new examples each time (that is how the properties found their bugs).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from factcheck.config import Settings, load_settings
from factcheck.rules import Rules, load_rules

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = REPO / "corpora" / "cases"

hypothesis_settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("HYPOTHESIS_PROFILE"):
    hypothesis_settings.load_profile(os.environ["HYPOTHESIS_PROFILE"])


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
