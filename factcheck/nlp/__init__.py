"""The NLP stage: the only place spaCy is loaded.

`load_nlp(settings, rules)` builds the pipeline once and returns an `Analyzer`; other modules call
`Analyzer.claims(...)` and `Analyzer.quantities(...)` and see only our dataclasses.

Pipeline: blank English (or `settings.nlp_model` when `use_model_if_installed` and it is
installed) with scispaCy's rule tokenizer, then

1. `factcheck_sentencizer`    sentence boundaries: scispaCy's pysbd_sentencizer rules, faster;
2. `factcheck_rule_ruler`     rules/claims/*.jsonl patterns and lexicon terms -> doc.spans["factcheck"]
                              (added first, so its phrase patterns are only tokenized);
3. `abbreviation_detector`    "low-dose naltrexone (LDN)" -> LDN's long form (scispaCy);
4. `factcheck_drugs`          the packaged drug dictionary, compiled once into settings.cache_dir;
5. `factcheck_quantities`     numbers, units, intervals -> doc.user_data.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import time
import warnings
from typing import Sequence

from ..config import Settings
from ..rules import Rules
from ..types import Claim, Origin, Quantity, Span
from .quantities import QuantityFinder, build_finder, convert, find_quantities

logger = logging.getLogger(__name__)

__all__ = ["Analyzer", "convert", "load_nlp"]


class Analyzer:
    """A loaded pipeline plus the rules it was built from."""

    def __init__(self, nlp: object, rules: Rules, finder: QuantityFinder) -> None:
        self.nlp = nlp
        self.rules = rules
        self.finder = finder

    @property
    def pipe_names(self) -> tuple[str, ...]:
        return tuple(self.nlp.pipe_names)  # type: ignore[attr-defined]

    def claims(self, text: str, origin: Origin,
               sections: Sequence[tuple[int, int, str]] = ()) -> tuple[Claim, ...]:
        """Split `text` into sentence-level claims with their slots filled.

        Args:
            text: an article's text or an abstract (sections joined by types.SECTION_JOINER).
            origin: "article" or "abstract".
            sections: (start, end, label) ranges of `text`: abstract section categories
                (METHODS, RESULTS, ...) or article paragraph roles (title, standfirst, body).

        Returns:
            Claims in text order; spans are offsets into `text`.
        """
        from .claims import extract_claims

        with warnings.catch_warnings():
            # scispaCy's abbreviation detector warns that its optional global matcher is empty
            warnings.filterwarnings("ignore", message=r".*W036")
            doc = self.nlp(text)  # type: ignore[operator]
        return extract_claims(doc, origin, sections, self.rules)

    def matches(self, text: str) -> tuple[tuple[str, str, Span], ...]:
        """The rule and lexicon matches in `text`, for tests and `factcheck rules` listings.

        Args:
            text: any text.

        Returns:
            (label, rule id, span) triples in text order; rule ids are the jsonl `id`s,
            `lexicon:<name>` or `<table>:<value>` for lexicon terms.
        """
        from .components import SPANS_KEY

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r".*W036")
            doc = self.nlp(text)  # type: ignore[operator]
        found = sorted(doc.spans.get(SPANS_KEY, ()), key=lambda s: (s.start_char, s.end_char))
        return tuple((s.label_, s.id_ or "lexicon:drug-dictionary", Span(s.start_char, s.end_char, s.text))
                     for s in found)

    def quantities(self, text: str) -> tuple[Quantity, ...]:
        """Every quantity in `text` (no spaCy pass needed).

        Args:
            text: any text.

        Returns:
            Quantities sorted by position, with exact spans.
        """
        return find_quantities(text, self.finder)


def _base(settings: Settings):  # type: ignore[no-untyped-def]
    """The installed model when settings ask for it and it is importable, else blank English."""
    import spacy

    name = settings.nlp_model
    if settings.use_model_if_installed and name and importlib.util.find_spec(name) is not None:
        logger.info("nlp: using installed model %s", name)
        return spacy.load(name)
    from . import components  # noqa: F401  registers our tokenizer and factories

    config = {"nlp": {"tokenizer": {"@tokenizers": "factcheck_scispacy_tokenizer.v1"}}}
    return spacy.blank("en", config=config)


def _split_hyphen_suffixes(nlp, suffixes) -> None:  # type: ignore[no-untyped-def]
    """Add one infix rule: 'levodopa-induced' -> 'levodopa', '-', 'induced'.

    The words come from rules/lexicons/hyphen_split_suffixes.txt.
    """
    if not suffixes:
        return
    words = "|".join(re.escape(w) for w in sorted(suffixes, key=len, reverse=True))
    extra = rf"(?<=[A-Za-z0-9])-(?=(?i:{words})\b)"
    current = getattr(nlp.tokenizer.infix_finditer, "__self__", None)
    pattern = f"{current.pattern}|{extra}" if current is not None else extra
    nlp.tokenizer.infix_finditer = re.compile(pattern).finditer


# A run of text with no space longer than this is tokenized in pieces: spaCy strips a prefix or
# suffix character at a time, so 10 KB of "(" or "%" took 7-16 s; no word is this long.
LONG_RUN = 1000
_RUN_PIECE = 100
_LONG_RUN = re.compile(rf"(?<!\S)\S{{{LONG_RUN + 1},}}")


class _LongRunTokenizer:
    """The pipeline's tokenizer, except that runs of more than LONG_RUN characters without a space
    are tokenized `_RUN_PIECE` characters at a time; text without such a run is tokenized as is."""

    def __init__(self, tokenizer) -> None:  # type: ignore[no-untyped-def]
        self.tokenizer = tokenizer

    def __call__(self, text: str):  # type: ignore[no-untyped-def]
        runs = list(_LONG_RUN.finditer(text))
        if not runs:
            return self.tokenizer(text)
        from spacy.tokens import Doc

        docs, pos = [], 0
        for run in runs:
            if run.start() > pos:
                docs.append(self.tokenizer(text[pos:run.start()]))
            docs.extend(self.tokenizer(text[at:min(at + _RUN_PIECE, run.end())])
                        for at in range(run.start(), run.end(), _RUN_PIECE))
            pos = run.end()
        if pos < len(text):
            docs.append(self.tokenizer(text[pos:]))
        doc = Doc.from_docs(docs, ensure_whitespace=False)
        if doc.text != text:  # never seen; the offsets of every claim depend on it
            logger.warning("nlp: tokenizing a long run in pieces changed the text; tokenizing whole")
            return self.tokenizer(text)
        return doc


def _bounded_abbreviations(detector, vocab) -> None:  # type: ignore[no-untyped-def]
    """scispaCy's abbreviation detector matches "(", one or more tokens, ")" and then drops every
    match with more than 8 tokens inside; matching at most 8 gives it the same candidates without
    keeping every open parenthesis alive to the end of the text (20,000 "(" took 21 s)."""
    from spacy.matcher import Matcher

    matcher = Matcher(vocab)
    matcher.add("parenthesis", [[{"ORTH": "("}, {"OP": "{1,8}"}, {"ORTH": ")"}]])
    detector.matcher = matcher


def load_nlp(settings: Settings, rules: Rules) -> Analyzer:
    """Build the pipeline once for this process.

    Args:
        settings: supplies nlp_model, use_model_if_installed and cache_dir (for the drug index).
        rules: the loaded rule files.

    Returns:
        An Analyzer ready for `claims` and `quantities`.

    Raises:
        RuleError: a pattern in rules/claims/ is not a valid spaCy pattern.
    """
    started = time.perf_counter()
    from scispacy.abbreviation import AbbreviationDetector  # noqa: F401  registers the factory
    from spacy.lang.en.stop_words import STOP_WORDS

    from ..errors import RuleError
    from .components import drug_index, rule_patterns

    nlp = _base(settings)
    _split_hyphen_suffixes(nlp, rules.lexicon("hyphen_split_suffixes"))
    # The ruler goes in first: SpanRuler runs the components before it over every phrase pattern.
    ruler = nlp.add_pipe("factcheck_rule_ruler", first=True)
    try:
        ruler.add_patterns(rule_patterns(rules))
    except ValueError as exc:
        raise RuleError(f"a pattern in {rules.root / 'claims'} is not valid for spaCy: {exc}") from exc
    if "parser" not in nlp.pipe_names and "senter" not in nlp.pipe_names:
        nlp.add_pipe("factcheck_sentencizer", first=True)
    _bounded_abbreviations(nlp.add_pipe("abbreviation_detector"), nlp.vocab)
    drugs = nlp.add_pipe("factcheck_drugs")
    drugs.initialize(drug_index(settings.cache_dir, rules.lexicon("drug_exclusions"), STOP_WORDS))
    finder = build_finder(rules)
    nlp.add_pipe("factcheck_quantities").initialize(finder)
    nlp.tokenizer = _LongRunTokenizer(nlp.tokenizer)
    logger.info("nlp: pipeline %s ready in %.2fs", nlp.pipe_names, time.perf_counter() - started)
    return Analyzer(nlp, rules, finder)
