"""Our spaCy components, registered as factories with the `factcheck_` prefix.

- `factcheck_rule_ruler`: a span ruler fed from rules/claims/*.jsonl (token patterns, each with its
  rule id) and from the lexicons (phrase patterns on lowercase text). Matches go to
  `doc.spans["factcheck"]`; `span.label_` is the rule's label, `span.id_` the rule id or
  `lexicon:<name>`.
- `factcheck_drugs`: looks up the packaged drug dictionary (compiled once into the cache folder)
  and adds DRUG spans to the same span group.
- `factcheck_quantities`: runs the quantity finder over `doc.text` and stores the result in
  `doc.user_data["factcheck_quantities"]`.

The factories take the loaded `Rules` and compiled tables through `load_nlp`, which calls
`initialize` on each component; nothing here runs when the module is imported.
"""

from __future__ import annotations

import bz2
import hashlib
import importlib.metadata
import importlib.util
import logging
import marshal
import pickle
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Iterable, Mapping

import numpy
from spacy.attrs import SENT_START
from spacy.language import Language
from spacy.pipeline import SpanRuler
from spacy.tokens import Doc, Span
from spacy.util import registry

from ..rules import Rules
from .quantities import QuantityFinder, find_quantities

logger = logging.getLogger(__name__)

SPANS_KEY = "factcheck"
ABBREVIATION_DRUG = "abbreviation:drug"  # span id of a short form whose long form is a drug
QUANTITIES_KEY = "factcheck_quantities"
_KEY = re.compile(r"[a-z0-9]+")
_WORD_START = re.compile(r"(?<![a-z0-9])[a-z0-9]+")

# lexicon file -> span label; tables give their attribute column to Span.kb_id_
LEXICON_LABELS: Mapping[str, str] = {
    "drugs": "DRUG", "outcomes": "OUTCOME", "conditions": "CONDITION", "comparators": "COMPARATOR",
    "hedges": "HEDGE", "negations": "NEGATION", "hedge_exceptions": "HEDGE_EXCEPTION",
}
TABLE_LABELS: Mapping[str, tuple[str, str, str]] = {
    "population": ("POPULATION", "term", "tags"),
    "design": ("DESIGN", "term", "tag"),
    "direction": ("DIRECTION_WORD", "term", "direction"),
}


def rule_patterns(rules: Rules) -> list[dict]:
    """The span-ruler patterns for every jsonl rule and every lexicon term (label, pattern, id)."""
    out: list[dict] = []
    for pat in rules.patterns:
        pattern = pat.pattern if isinstance(pat.pattern, str) else _thaw(pat.pattern)
        out.append({"label": pat.label, "pattern": pattern, "id": pat.id})
    for name, label in LEXICON_LABELS.items():
        for term in sorted(rules.lexicon(name)):
            out.append({"label": label, "pattern": term, "id": f"lexicon:{name}"})
    for name, (label, term_col, attr_col) in TABLE_LABELS.items():
        for row in rules.table(name):
            out.append({"label": label, "pattern": row[term_col].lower(),
                        "id": f"{name}:{row[attr_col]}"})
    return out


def _thaw(value: object) -> object:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


@Language.factory(
    "factcheck_rule_ruler",
    default_config={"spans_key": SPANS_KEY, "phrase_matcher_attr": "LOWER", "validate": True},
)
def make_rule_ruler(nlp: Language, name: str, spans_key: str, phrase_matcher_attr: str,
                    validate: bool) -> SpanRuler:
    """A spaCy SpanRuler keyed to our span group; patterns come from `rule_patterns(rules)`."""
    return SpanRuler(nlp, name, spans_key=spans_key, phrase_matcher_attr=phrase_matcher_attr,
                     validate=validate, overwrite=False)


class DrugFinder:
    """Finds drug names from the drug-named-entity-recognition dictionary, by first word."""

    def __init__(self, name: str = "factcheck_drugs", spans_key: str = SPANS_KEY) -> None:
        self.name = name
        self.spans_key = spans_key
        self.index: Mapping[str, tuple[tuple[str, str], ...]] = {}

    def initialize(self, index: Mapping[str, tuple[tuple[str, str], ...]]) -> None:
        self.index = index

    def __call__(self, doc: Doc) -> Doc:
        if not self.index:
            return doc
        text = doc.text
        lower = text.lower()
        found: list[Span] = []
        group = doc.spans.get(self.spans_key)
        # a curated rules/lexicons/drugs.txt match already covers this name
        curated = {(s.start_char, s.end_char) for s in group or () if s.label_ == "DRUG"}
        taken_until = -1
        for m in _WORD_START.finditer(lower):
            if m.start() < taken_until:
                continue
            for variant, canonical in self.index.get(m.group(0), ()):
                end = m.start() + len(variant)
                if lower.startswith(variant, m.start()) and (end == len(text) or not text[end].isalnum()):
                    span = doc.char_span(m.start(), end, label="DRUG", kb_id=canonical,
                                         alignment_mode="strict")
                    if span is not None:
                        if (span.start_char, span.end_char) not in curated:
                            found.append(span)
                        taken_until = end
                        break  # candidates are sorted longest first
        found += self._abbreviated(doc, curated | {(s.start_char, s.end_char) for s in found})
        if found:
            doc.spans[self.spans_key] = list(group or ()) + found
        return doc


    def _abbreviated(self, doc: Doc, drugs: set[tuple[int, int]]) -> list[Span]:
        """Short forms whose defined long form is a drug: 'cyclosporine A (CsA)' makes every CsA a DRUG."""
        out = []
        for short in getattr(doc._, "abbreviations", ()) if Doc.has_extension("abbreviations") else ():
            long_form = short._.long_form
            if long_form is None or (long_form.start_char, long_form.end_char) not in drugs:
                continue
            out.append(Span(doc, short.start, short.end, label="DRUG", kb_id=long_form.text.lower(),
                            span_id=ABBREVIATION_DRUG))
        return out


@Language.factory("factcheck_drugs", default_config={"spans_key": SPANS_KEY})
def make_drug_finder(nlp: Language, name: str, spans_key: str) -> DrugFinder:
    """Drug-dictionary matcher; `load_nlp` gives it the compiled index."""
    return DrugFinder(name, spans_key)


class QuantityComponent:
    """Stores `find_quantities(doc.text)` in `doc.user_data`."""

    def __init__(self, name: str = "factcheck_quantities") -> None:
        self.name = name
        self.finder: QuantityFinder | None = None

    def initialize(self, finder: QuantityFinder) -> None:
        self.finder = finder

    def __call__(self, doc: Doc) -> Doc:
        if self.finder is not None:
            doc.user_data[QUANTITIES_KEY] = find_quantities(doc.text, self.finder)
        return doc


@Language.factory("factcheck_quantities")
def make_quantities(nlp: Language, name: str) -> QuantityComponent:
    """Quantity finder component; `load_nlp` gives it the compiled finder."""
    return QuantityComponent(name)


@registry.tokenizers("factcheck_scispacy_tokenizer.v1")
def make_scispacy_tokenizer():  # type: ignore[no-untyped-def]
    """scispaCy's rule tokenizer as a config-registered tokenizer, so spacy.blank builds only it."""
    import warnings

    from scispacy.custom_tokenizer import combined_rule_tokenizer

    def create(nlp: Language):  # type: ignore[no-untyped-def]
        if not hasattr(nlp, "tokenizer"):
            # combined_rule_tokenizer reads nlp.tokenizer.token_match, which a language's
            # defaults supply before any tokenizer exists; Language.__init__ replaces this stub
            nlp.tokenizer = SimpleNamespace(token_match=nlp.Defaults.token_match)  # type: ignore[assignment]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # a regex in spaCy's tokenizer rules
            return combined_rule_tokenizer(nlp)

    return create


class Sentencizer:
    """scispaCy's `pysbd_sentencizer` rules, with the segmenter built once and set lookups.

    scispaCy's component builds a pysbd Segmenter per document and tests each token against a
    list of offsets, which is most of the pipeline's time on an 800-word story.
    """

    def __init__(self, name: str = "factcheck_sentencizer") -> None:
        import pysbd
        from scispacy.consts import ABBREVIATIONS

        self.name = name
        self.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
        self.abbreviations = frozenset(ABBREVIATIONS)

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        token_at = {}
        for token in doc:
            token_at[token.idx] = token.i
        texts = [t.text for t in doc]
        starts = set()
        for offset, piece in _pieces(doc.text):
            for sent in self.segmenter.segment(piece):
                start = offset + sent.start
                end = offset + sent.end
                while start < end and start not in token_at and doc.text[start].isspace():
                    start += 1
                if start in token_at:
                    starts.add(token_at[start])
        flags = numpy.full((len(doc), 1), -1, dtype="int32")
        flags[0, 0] = 1
        for i in range(1, len(doc)):
            prev = texts[i - 1]
            if i in starts:
                glued = prev in self.abbreviations or (i - 1 == 0 and all(c == "\n" for c in prev))
                flags[i, 0] = -1 if glued else 1
            elif i - 1 != 0 and prev.count("\n") >= 2:
                flags[i, 0] = 1
        # from_array, not token.is_sent_start: that setter re-checks the whole doc per token
        doc.from_array([SENT_START], flags.astype("uint64"))  # type: ignore[arg-type]  # -1 wraps
        return doc


# pysbd rewrites a whole line once per abbreviation in it, so a line of 100 KB ("Dr. Aa Dr. Aa
# ...") took minutes; a line longer than this is segmented in pieces cut at a likely sentence end
# (a word of four lowercase letters, a full stop, a space, a capitalised word), else at a space.
LONG_LINE = 10_000
_PIECE_END = re.compile(r"(?<=[a-z]{4}[.!?]) (?=[A-Z][a-z])")


def _pieces(text: str) -> list[tuple[int, str]]:
    """(offset, piece) of `text` for pysbd: the whole text unless a line is longer than LONG_LINE."""
    if len(text) <= LONG_LINE or not any(len(line) > LONG_LINE for line in text.split("\n")):
        return [(0, text)]
    cuts, line_start = [0], 0
    for line in text.split("\n"):
        at = line_start
        while line_start + len(line) - at > LONG_LINE:
            ends = [m.end() for m in _PIECE_END.finditer(text, at + LONG_LINE // 2, at + LONG_LINE)]
            space = text.rfind(" ", at + LONG_LINE // 2, at + LONG_LINE)
            at = ends[-1] if ends else space + 1 if space >= 0 else at + LONG_LINE
            cuts.append(at)
        line_start += len(line) + 1
    cuts.append(len(text))
    return [(a, text[a:b]) for a, b in zip(cuts, cuts[1:]) if b > a]


@Language.factory("factcheck_sentencizer")
def make_sentencizer(nlp: Language, name: str) -> Sentencizer:
    """Sentence boundaries from pysbd, as scispaCy's pysbd_sentencizer sets them."""
    return Sentencizer(name)


def _drug_source() -> Path | None:
    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).parent / "drug_ner_dictionary.pkl.bz2"
    return path if path.exists() else None


def drug_index(cache_dir: Path, exclusions: Iterable[str], stop_words: Iterable[str],
               min_chars: int = 4) -> Mapping[str, tuple[tuple[str, str], ...]]:
    """The packaged drug dictionary as first-word -> ((variant, canonical), ...), longest first.

    Compiled once from the package's pickled dictionary (about 0.6 s) and cached with marshal in
    `cache_dir`; the cache name carries the package version and a hash of the exclusions, so a new
    package or an edited rules/lexicons/drug_exclusions.txt rebuilds it.

    Args:
        cache_dir: where the compiled index is kept.
        exclusions: terms never tagged as drugs.
        stop_words: ordinary words never tagged as drugs (spaCy's English stop words).
        min_chars: shorter names are skipped (too ambiguous: "ca", "pt").

    Returns:
        The index; empty when the package is not installed.
    """
    source = _drug_source()
    if source is None:
        logger.info("drugs: drug-named-entity-recognition not installed; curated lexicon only")
        return {}
    excluded = frozenset(exclusions) | frozenset(stop_words)
    version = importlib.metadata.version("drug-named-entity-recognition")
    digest = hashlib.sha1("\n".join(sorted(excluded)).encode()).hexdigest()[:10]
    cache = cache_dir / f"drug-index-{version}-{digest}.marshal"
    if cache.exists():
        try:
            return marshal.loads(cache.read_bytes())  # type: ignore[no-any-return]
        except (ValueError, EOFError, TypeError):
            logger.warning("drugs: cache %s is unreadable; rebuilding", cache)
    with bz2.open(source, "rb") as fh:
        data = pickle.load(fh)  # the package's own shipped dictionary
    index: dict[str, list[tuple[str, str]]] = {}
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        variant = variant.strip().lower()
        if len(variant) < min_chars or variant in excluded or not canonicals:
            continue
        m = _KEY.match(variant)
        if not m:
            continue
        index.setdefault(m.group(0), []).append((variant, str(canonicals[0]).lower()))
    frozen = {k: tuple(sorted(v, key=lambda p: -len(p[0]))) for k, v in index.items()}
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(".tmp")
        tmp.write_bytes(marshal.dumps(frozen))
        tmp.replace(cache)
    except OSError as exc:
        logger.warning("drugs: cannot write cache %s: %s", cache, exc)
    logger.info("drugs: compiled %s names into %s", len(data["drug_variant_to_canonical"]), cache)
    return frozen
