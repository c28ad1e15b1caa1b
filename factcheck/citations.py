"""Citations stage: Article -> tuple[Citation, ...], best candidate first.

Where a story points at its paper, in the order they are looked for:

1. its links, matched against `rules/citations/publisher_urls.tsv` (doi.org, publisher article
   pages, PubMed, PMC, Europe PMC, trial registries; press releases such as EurekAlert and
   university newsrooms are kept as secondary `url` citations, never THE study; search links
   such as a PubMed `?term=` query keep their query string, which names the paper);
2. identifiers written in the text: URLs, bare DOIs ("doi:10.1000/xyz.", also when a line
   break or a hyphenation split them), and the rows of `rules/citations/text_identifiers.tsv`
   ("PMID: 123", "PMCID: PMC123", NCT, ISRCTN, EudraCT, ACTRN numbers);
3. when no DOI, PMID or PMCID is in the story itself, a `reference` citation built from what the
   text says about the paper ("published in the journal X", "Smith et al.", a year, a reference
   line), as a search query for the resolver.

Each candidate is scored from where it was found: the story body, a sentence with cue words from
`rules/citations/citation_cues.tsv` ("study", "published in"), a "Source:" line, an
early position, and repetition raise it; a link in the navigation, footer or a related-stories
rail scores very low and is never marked primary. The primary citation is the best-scored one
the resolver can look up (DOI, PMID, PMCID or reference); a trial number or a bare article URL
is primary only when there is nothing else.
"""

from __future__ import annotations

import bisect
import logging
import re
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Iterator, Literal, Mapping
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

from . import identifiers
from .errors import RuleError
from .rules import Rules
from .types import Article, Citation, CitationKind

logger = logging.getLogger(__name__)

# How much a kind of identifier says about which paper is meant, before context.
KIND_WEIGHT: Mapping[str, float] = {"doi": 1.0, "pmid": 1.0, "pmcid": 0.95, "url": 0.6,
                                    "nct": 0.5, "trial": 0.5, "reference": 0.3}
RESOLVABLE = frozenset({"doi", "pmid", "pmcid", "reference"})  # what resolve_paper can look up
SECONDARY_WEIGHT = 0.3  # press releases: about the study, never the study
# Where on the page the mention sat; low regions can never give the primary citation.
REGION_WEIGHT: Mapping[str, float] = {"body": 1.0, "other": 0.4, "nav": 0.02, "footer": 0.02,
                                      "related": 0.02}
LOW_REGIONS = frozenset({"nav", "footer", "related"})
MAX_CUE_BONUS = 2.5  # cap on the summed positive cue weights of one sentence
LABEL_BONUS = 2.0  # on a "Source:" / "Reference:" line
POSITION_BONUS = 0.5  # at the very start of the text, falling to 0 at the end
REPEAT_BONUS = 0.25  # per further mention, at most MAX_REPEATS of them
MAX_REPEATS = 4
TITLE_WORDS = 12  # title words kept in a reference query

_DOI = re.compile(r"10\.\d{4,9}/[^\s\"<>]+")
_DOI_URL_TAIL = re.compile(
    r"(?:/(?:full|abstract|abs|pdf|epdf|fulltext|full\.pdf|meta|references|figures|html))+$"
    r"|\.pdf$", re.IGNORECASE)
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"']+", re.IGNORECASE)
# A DOI cut by a line break (or a hyphenation, or a soft hyphen) in a footnote or a saved page:
# the head ends at the break; the tail is glued on when it cannot be the next sentence.
_DOI_BREAK = re.compile(r"(?P<sep>[ \t]*\n[ \t]*|(?<=[./-])[ \t]+)(?P<tail>[0-9a-z(][^\s\"<>]*)")
_MAX_JOINED = 10 * identifiers.MAX_DOI_LENGTH  # percent-escapes decoded, still too long
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_TRAILING = ".,;:!?'\"\u201d\u2019>*"
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"\u201d\u2019)]?\s+(?=[A-Z\"\u201c(\[])")

_NAME_WORD = r"[A-Z][\w&'\u2019-]*"
_JOURNAL_NAME = (rf"(?:The\s+)?{_NAME_WORD}"
                 rf"(?:(?:\s+(?:of(?:\s+the)?|and|&|for)\s+|\s+){_NAME_WORD}){{0,8}}")
_JOURNAL = re.compile(
    r"(?:(?:[Pp]ublished|[Aa]ppear(?:s|ed|ing)?|[Rr]eported|[Pp]resented|[Dd]escribed)"
    r"(?:\s+(?:online|today|this\s+week|recently|last\s+\w+))?\s+in\s+(?:the\s+)?"
    r"(?:(?:peer-reviewed|medical|scientific|academic|leading|prestigious)\s+)*"
    r"(?:journal\s+(?:of\s+)?)?"
    r"|\b[Tt]he\s+journal\s+(?:of\s+)?)"
    rf"(?P<journal>{_JOURNAL_NAME})")
# starts only where a run of spaces starts: tried inside a long run, each start read the rest of it
_NOT_JOURNAL_TAIL = re.compile(
    r"(?<!\s)(?:\s+(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|March|"
    r"April|May|June|July|August|September|October|November|December|The|This|It|In|On))+$")
# A surname is at most 40 letters: unbounded, a capital in a long run of letters read the rest of
# the run from every capital (30 KB of capitals took 7 s)
_SURNAME = r"[A-Z][\w'\u2019-]{1,40}"
_REF_AUTHOR = re.compile(
    rf"^(?P<author>{_SURNAME}(?:[ -]{_SURNAME})?),?\s+(?:[A-Z]\.\s*){{1,3}}[,&(]"
    rf"|^(?P<vauthor>{_SURNAME})\s+[A-Z]{{1,3}}[,.]")
_TEXT_AUTHOR = re.compile(
    rf"(?P<etal>{_SURNAME})\s+(?:et\s+al\b|and\s+(?:her|his|their)\s+colleagues)"
    r"|(?:led\s+by|[Ll]ead\s+author|[Ff]irst\s+author)\s+(?:was\s+)?(?:Dr\.?\s+|Prof\.?\s+|"
    rf"Professor\s+)?(?:{_SURNAME}\s+){{0,2}}?(?P<led>{_SURNAME})\b(?!\s+[A-Z])")
_REF_YEAR = re.compile(r"\((?P<year>(?:19|20)\d{2})[a-z]?\)")
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_REF_TITLE = re.compile(r"\((?:19|20)\d{2}[a-z]?\)\.?\s+(?P<title>[^.?!]{10,300}[.?!])")
_QUOTED_TITLE = re.compile(r"\b(?:titled|entitled)\s+[\"\u201c](?P<title>[^\"\u201d]{10,300})")


LinkRole = Literal["identifier", "page", "press_release", "search"]


@dataclass(frozen=True, slots=True)
class LinkTarget:
    """What one link points at, by the first row of publisher_urls.tsv that matches it."""

    kind: CitationKind  # doi | pmid | pmcid | nct | trial | url
    value: str  # the normalised identifier, or the cleaned URL for kind "url"
    role: LinkRole  # identifier; a journal "page"; a "press_release"; a "search" link
    rule_id: str  # the publisher_urls.tsv row that matched
    term: str | None = None  # a search link's query, as typed ("smith j[au] aspirin")


@dataclass(frozen=True, slots=True)
class _Mention:
    kind: CitationKind
    value: str
    start: int | None
    end: int | None
    region: str
    quote: str | None
    label_line: bool = False
    secondary: bool = False


def normalize_doi(text: str | None) -> str | None:
    """The DOI in `text`, normalised: lowercase, no resolver prefix, URL-decoded, no trailing
    punctuation; None when there is no DOI, or when it is not one a request may carry
    (`identifiers.normalize_doi`, which does the final step: a DOI holding a control character
    or a `..` segment is refused, not cut).

    Args:
        text: a DOI ("10.1000/XYZ"), "doi:10.1000/xyz", a doi.org URL, a publisher URL that embeds
            a DOI, or a sentence ending with one ("... 10.1000/xyz).").

    Returns:
        The DOI, e.g. "10.1007/s40263-025-01183-7", or None.
    """
    if not text:
        return None
    decoded = unquote(text.strip())
    match = _DOI.search(decoded)
    if not match:
        return None
    doi = match.group(0)
    if "/" in decoded[:match.start()] or decoded.lower().startswith(("http", "doi.org", "dx.")):
        # a query string or fragment is the URL's, not the DOI's; an "&" ends a DOI only in a
        # query ("?doi=10.1/x&ref=y"): in the path it is the DOI's own (doi.org/10.1000/a&b)
        doi = re.split(r"[?#&]" if "?" in decoded[:match.start()] else r"[?#]", doi)[0]
        doi = _DOI_URL_TAIL.sub("", doi)
    # the one definition of a DOI a request may carry (no control characters, no whitespace,
    # no "." or ".." segment however encoded), shared with the service parsers
    return identifiers.normalize_doi(_strip_trailing(doi))


def find_citations(article: Article, rules: Rules) -> tuple[Citation, ...]:
    """Find every pointer from the story to a paper, best candidate first.

    Args:
        article: the story, with its text and links.
        rules: the loaded rules; uses the `publisher_urls` and `citation_cues` tables and the
            `citation_labels` lexicon.

    Returns:
        The citations sorted by score, highest first; the best one found in the story itself
        (not in navigation, footer or related-stories links) has `primary=True`. Empty when the
        story cites nothing.

    Raises:
        RuleError: a row of publisher_urls.tsv or citation_cues.tsv is malformed.
    """
    patterns = _url_patterns(rules.table("publisher_urls"))
    identifiers = _text_patterns(rules.table("text_identifiers"))
    labels = _label_paragraphs(article, rules.lexicon("citation_labels"))
    layout = _Layout(article)
    mentions = list(_link_mentions(layout, patterns, labels))
    mentions.extend(_text_mentions(layout, patterns, identifiers, labels, mentions))
    if not any(m.kind in ("doi", "pmid", "pmcid") and m.region not in LOW_REGIONS
               for m in mentions):
        reference = _reference_mention(layout, labels)
        if reference is not None:
            mentions.append(reference)
    citations = _score(article, mentions, _Cues.from_table(rules.table("citation_cues")))
    logger.debug("citations: %s found, primary %s", len(citations),
                 next((c.value for c in citations if c.primary), None))
    return citations


# -- links --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _UrlPattern:
    id: str
    regex: re.Pattern[str]
    kind: str
    prefix: str | None


_COMPILED: dict[tuple[str, int], tuple[object, tuple[_UrlPattern, ...]]] = {}


def _once_per_table(build: Callable[[Any], tuple[_UrlPattern, ...]]
                    ) -> Callable[[Any], tuple[_UrlPattern, ...]]:
    """Compile a rules table's patterns once per loaded table, not once per story."""
    def cached(rows: Any) -> tuple[_UrlPattern, ...]:
        key = (build.__name__, id(rows))
        hit = _COMPILED.get(key)
        if hit is not None and hit[0] is rows:
            return hit[1]
        patterns = build(rows)
        _COMPILED[key] = (rows, patterns)  # holds `rows`, so its id is not reused meanwhile
        return patterns
    return cached


@_once_per_table
def _url_patterns(rows: Iterable[Mapping[str, str]]) -> tuple[_UrlPattern, ...]:
    out = []
    for row in rows:
        kind, _, prefix = row["kind"].partition(":")
        known = kind in ("doi", "pmid", "pmcid", "nct", "trial", "url")
        if not known or (prefix and kind not in ("doi", "trial", "url")) or (
                kind == "url" and prefix not in ("", "secondary", "search")):
            raise RuleError(f"unknown kind {row['kind']!r} in publisher_urls.tsv",
                            rule_id=row["id"])
        try:
            regex = re.compile(row["regex"], re.IGNORECASE)
        except re.error as exc:
            raise RuleError(f"bad regex in publisher_urls.tsv: {exc}", rule_id=row["id"]) from exc
        if (kind != "url" or prefix == "search") and "id" not in regex.groupindex:
            raise RuleError("regex has no (?P<id>...) group in publisher_urls.tsv",
                            rule_id=row["id"])
        out.append(_UrlPattern(row["id"], regex, kind, prefix or None))
    return tuple(out)


@_once_per_table
def _text_patterns(rows: Iterable[Mapping[str, str]]) -> tuple[_UrlPattern, ...]:
    out = []
    for row in rows:
        if row["kind"] not in ("pmid", "pmcid", "nct", "trial"):
            raise RuleError(f"unknown kind {row['kind']!r} in text_identifiers.tsv",
                            rule_id=row["id"])
        try:
            regex = re.compile(row["regex"], re.IGNORECASE)
        except re.error as exc:
            raise RuleError(f"bad regex in text_identifiers.tsv: {exc}",
                            rule_id=row["id"]) from exc
        if "id" not in regex.groupindex:
            raise RuleError("regex has no (?P<id>...) group in text_identifiers.tsv",
                            rule_id=row["id"])
        out.append(_UrlPattern(row["id"], regex, row["kind"], None))
    return tuple(out)


def _trial_id(found: str, prefix: str | None = None) -> str:
    """A registry id without inner spaces ("ISRCTN 123" -> "ISRCTN123"), with its prefix."""
    value = re.sub(r"\s", "", found).upper()
    return f"{prefix}{value}" if prefix and not value.startswith(prefix) else value


def link_target(url: str, rules: Rules) -> LinkTarget | None:
    """What a link points at according to `rules/citations/publisher_urls.tsv`.

    Args:
        url: an absolute http(s) URL, as written in a page.
        rules: the loaded rules; uses the `publisher_urls` table.

    Returns:
        The LinkTarget (a DOI, PMID, PMCID or trial id; a journal article page without an id in
        its URL; a press release; a search link with its `term`), or None for an ordinary link.

    Raises:
        RuleError: a row of publisher_urls.tsv is malformed.
    """
    found = _match_pattern(url, _url_patterns(rules.table("publisher_urls")))
    if found is None:
        return None
    pattern, match, (kind, value) = found
    role: LinkRole = "identifier"
    if kind == "url":
        role = ("press_release" if pattern.prefix == "secondary"
                else "search" if pattern.prefix == "search" else "page")
    term = unquote_plus(match.group("id")).strip() if role == "search" else None
    return LinkTarget(kind, value, role, pattern.id, term or None)


def _match_pattern(url: str, patterns: tuple[_UrlPattern, ...]
                   ) -> tuple[_UrlPattern, re.Match[str], tuple[CitationKind, str]] | None:
    decoded = unquote(url.strip())
    for pattern in patterns:
        match = pattern.regex.search(decoded)
        if not match:
            continue
        value = _value(pattern, match, url)
        if value:
            return pattern, match, value
    return None


def _match_url(url: str, patterns: tuple[_UrlPattern, ...]
               ) -> tuple[CitationKind, str, bool] | None:
    """The (kind, normalised value, secondary) a link points at, or None for an ordinary link."""
    found = _match_pattern(url, patterns)
    if found is None:
        return None
    pattern, _, (kind, value) = found
    return kind, value, pattern.kind == "url" and pattern.prefix == "secondary"


def _value(pattern: _UrlPattern, match: re.Match[str],
           url: str) -> tuple[CitationKind, str] | None:
    if pattern.kind == "url":
        return "url", _clean_url(url, keep_query=pattern.prefix == "search")
    found = match.group("id")
    if pattern.kind == "trial":
        return "trial", _trial_id(found, pattern.prefix)
    if pattern.kind == "doi":
        doi = normalize_doi(f"{pattern.prefix}/{found}" if pattern.prefix else found)
        # captured from a link: ".../10.1/x/fulltext" names a page of the article, not its DOI
        doi = _DOI_URL_TAIL.sub("", doi) if doi else None
        return ("doi", doi) if doi and "/" in doi else None
    if pattern.kind == "pmcid":
        return "pmcid", found.upper()
    if pattern.kind == "nct":
        return "nct", found.upper()
    return "pmid", str(int(found))


def _clean_url(url: str, keep_query: bool = False) -> str:
    parts = urlsplit(url.strip())
    query = parts.query if keep_query else ""  # a search link's query is what it points at
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, query, ""))


def _link_mentions(layout: _Layout, patterns: tuple[_UrlPattern, ...],
                   labels: frozenset[int]) -> Iterator[_Mention]:
    for link in layout.article.links:
        found = _match_url(link.href, patterns)
        if found is None:
            continue
        kind, value, secondary = found
        quote: str | None = link.text or None
        label = False
        if link.start is not None:
            label = layout.paragraph_index(link.start) in labels
            quote = layout.context(link.start, label)
        yield _Mention(kind, value, link.start, link.end, link.region, quote, label, secondary)


# -- identifiers in the text --------------------------------------------------------------------


def _text_mentions(layout: _Layout, patterns: tuple[_UrlPattern, ...],
                   identifiers: tuple[_UrlPattern, ...], labels: frozenset[int],
                   known: list[_Mention]) -> list[_Mention]:
    text = layout.text
    # the characters earlier mentions hold, so a story citing one DOI thousands of times is not
    # compared pair by pair; spans that are empty or off the text are compared one by one
    used = bytearray(len(text))
    odd: list[tuple[int, int]] = []

    def take(start: int, end: int) -> None:
        if 0 <= start < end <= len(text):
            used[start:end] = b"\x01" * (end - start)
        else:
            odd.append((start, end))

    for m in known:
        if m.start is not None and m.end is not None:
            take(m.start, m.end)
    out: list[_Mention] = []

    def add(kind: CitationKind, value: str | None, start: int, end: int,
            secondary: bool = False) -> None:
        if not value or any(used[start:end]) or any(s < end and start < e for s, e in odd):
            return
        take(start, end)
        label = layout.paragraph_index(start) in labels
        out.append(_Mention(kind, value, start, end, "body", layout.context(start, label),
                            label, secondary))

    for match in _URL.finditer(text):
        url = _strip_trailing(match.group(0))
        found = _match_url(url if "://" in url else f"https://{url}", patterns)
        if found:
            add(found[0], found[1], match.start(), match.start() + len(url), found[2])
    for start, end, doi in _text_dois(text):
        add("doi", normalize_doi(doi), start, end)
    for pattern in identifiers:
        for match in pattern.regex.finditer(text):
            ident = match.group("id")
            value = str(int(ident)) if pattern.kind == "pmid" else _trial_id(ident)
            add(pattern.kind, value, match.start("id"), match.end("id"))  # type: ignore[arg-type]
    return out


def _text_dois(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, doi) for every DOI written in `text`, rejoined across line breaks.

    Each chain of breaks is followed once: every DOI starting inside it joins the same pieces, so
    a list of lines that all glue on is not re-read from each of them (100 KB took minutes). A
    DOI is joined up to `_MAX_JOINED` characters, past which no DOI a request may carry is left.
    """
    chains: dict[int, tuple[list[int], int]] = {}  # where a piece ends -> (its chain's ends, index)
    for match in _DOI.finditer(text):
        start, end = match.start(), match.end()
        if end not in chains:
            ends = [end]
            while True:
                tail = _DOI_BREAK.match(text, ends[-1])
                # the last visible character is all `_continues` reads of the head
                last = ends[-1]
                while last > start + 1 and ord(text[last - 1]) in _INVISIBLE:
                    last -= 1
                if tail is None or not _continues(text[last - 1:last], tail.group("sep"),
                                                  tail.group("tail")):
                    break
                ends.append(tail.end())
            for index, piece_end in enumerate(ends):
                chains[piece_end] = (ends, index)
        ends, index = chains[end]
        end = ends[max(index, bisect.bisect_right(ends, start + _MAX_JOINED) - 1)]
        raw = _strip_trailing(text[start:end])
        cut = len(raw)
        while cut > 8 and raw[cut - 1] in ".-":
            cut -= 1  # "…2024." at the end of a sentence, or a dangling hyphen
        raw = raw[:cut]
        yield start, start + len(raw), re.sub(r"\s+", "", raw).translate(_INVISIBLE)


def _continues(head: str, sep: str, tail: str) -> bool:
    """Whether `tail` after the break `sep` is the rest of the DOI `head` (not a new sentence)."""
    tail = _strip_trailing(tail)
    if not tail or not re.fullmatch(r"[0-9a-z()][\w.()/;:-]*", tail):
        return False  # a capitalised word starts the next sentence
    if "\n" in sep:
        # a DOI wrapped at a line end: the head stops at a character a DOI goes on after
        return head[-1] in "./-_" or head[-1].isdigit() and tail[0].isdigit()
    return head[-1] in "./-" and tail[0].isdigit()  # "10.1016/j.jad.2024. 01.023" (a <br>)


def _strip_trailing(value: str) -> str:
    """Drop sentence punctuation after an identifier; keep a ")" that closes one inside it."""
    end = len(value)
    counts: dict[str, int] = {}  # brackets in value[:end], counted once (not once per character)
    while end:
        last = value[end - 1]
        if last in _TRAILING:
            end -= 1
            continue
        if last not in ")]}":
            break
        if not counts:
            counts = {c: value.count(c) for c in "()[]{}"}
        if counts[last] <= counts[{")": "(", "]": "[", "}": "{"}[last]]:
            break
        counts[last] -= 1
        end -= 1
    return value[:end]


# -- a reference built from the text ------------------------------------------------------------


def _reference_mention(layout: _Layout, labels: frozenset[int]) -> _Mention | None:
    article, text = layout.article, layout.text
    journal = _JOURNAL.search(text)
    ref_line = _reference_line(article, labels)
    author = _author(ref_line, text)
    if journal is None and author is None:
        return None
    name = _NOT_JOURNAL_TAIL.sub("", journal.group("journal")) if journal else None
    anchor = journal.start() if journal else (author[1] if author else 0)
    sentence = layout.sentence(anchor)
    year = _year(ref_line, sentence)
    title = _title(ref_line, text)
    parts = [author[0] if author else None, name, year, title]
    value = ", ".join(p for p in parts if p)
    if not name and not (author and (year or title)):
        return None  # a surname alone finds nothing
    return _Mention("reference", value, anchor, anchor + len(sentence), "body", sentence,
                    ref_line is not None)


def _reference_line(article: Article, labels: frozenset[int]) -> str | None:
    for index in sorted(labels):
        paragraph = article.paragraphs[index]
        line = article.text[paragraph.start:paragraph.end]
        line = re.sub(r"^[^:]{1,25}:\s*", "", line) if ":" in line[:26] else line
        if len(line) > 20:
            return line
    return None


def _author(ref_line: str | None, text: str) -> tuple[str, int] | None:
    if ref_line:
        match = _REF_AUTHOR.match(ref_line)
        if match:
            return match.group("author") or match.group("vauthor"), text.find(ref_line)
    match = _TEXT_AUTHOR.search(text)
    if match:
        group = "etal" if match.group("etal") else "led"
        return match.group(group), match.start(group)
    return None


def _year(ref_line: str | None, sentence: str) -> str | None:
    match = _REF_YEAR.search(ref_line) if ref_line else None
    if match:
        return match.group("year")
    match = _YEAR.search(sentence)
    return match.group(0) if match else None


def _title(ref_line: str | None, text: str) -> str | None:
    match = _REF_TITLE.search(ref_line) if ref_line else None
    match = match or _QUOTED_TITLE.search(text)
    if not match:
        return None
    words = match.group("title").rstrip(".?!").split()
    return " ".join(words[:TITLE_WORDS])


# -- context: sentences, label lines, cue words -------------------------------------------------


class _Layout:
    """Where the paragraphs, lines and sentences of one article are, found by offset in log time:
    a story that cites one DOI thousands of times must not rescan its paragraph each time."""

    def __init__(self, article: Article) -> None:
        self.article = article
        self.text = article.text
        paragraphs = article.paragraphs
        self._sorted = all(a.start <= a.end <= b.start for a, b in zip(paragraphs, paragraphs[1:]))
        self._starts = [p.start for p in paragraphs]
        self._ends = [p.end for p in paragraphs]
        self._breaks = [m.start() for m in re.finditer("\n", self.text)]
        self._sentence_ends: dict[int, tuple[list[int], list[int]]] = {}
        self._sentences: dict[tuple[int, int], str] = {}  # one string per sentence, shared

    def paragraph_index(self, offset: int) -> int | None:
        """The first paragraph that holds `offset` (its end included)."""
        paragraphs = self.article.paragraphs
        if not self._sorted:
            return next((i for i, p in enumerate(paragraphs) if p.start <= offset <= p.end), None)
        last = bisect.bisect_right(self._starts, offset) - 1  # the last that starts at or before
        first = bisect.bisect_left(self._ends, offset)  # the first that ends at or after
        return first if 0 <= first <= last else None

    def sentence(self, offset: int) -> str:
        """The sentence of the text that holds `offset` (sentences never cross a paragraph break)."""
        text = self.text
        at = bisect.bisect_left(self._breaks, offset)
        para_start = self._breaks[at - 1] + 1 if at else 0
        para_end = self._breaks[at] if at < len(self._breaks) else len(text)
        if para_start not in self._sentence_ends:
            found = list(_SENTENCE_END.finditer(text, para_start, para_end))
            self._sentence_ends[para_start] = ([m.start() for m in found], [m.end() for m in found])
        starts, ends = self._sentence_ends[para_start]
        i = bisect.bisect_right(ends, offset)  # the first sentence end after `offset`
        start = ends[i - 1] if i else para_start
        stop = starts[i] if i < len(starts) else para_end
        if (start, stop) not in self._sentences:
            self._sentences[start, stop] = text[start:stop].strip()
        return self._sentences[start, stop]

    def context(self, offset: int, label_line: bool) -> str:
        """The quote for a mention: its sentence, or the whole line of a "Source:" reference."""
        if label_line:
            index = self.paragraph_index(offset)
            if index is not None:
                paragraph = self.article.paragraphs[index]
                return self.text[paragraph.start:paragraph.end]
        return self.sentence(offset)


def _label_paragraphs(article: Article, labels: frozenset[str]) -> frozenset[int]:
    """Indexes of paragraphs that are a "Source: ..." line or follow a bare "Source:" line."""
    if not labels:
        return frozenset()
    alternatives = "|".join(re.escape(label) for label in sorted(labels, key=len, reverse=True))
    label = re.compile(rf"^\s*(?:{alternatives})\s*:", re.IGNORECASE)
    bare = re.compile(rf"^\s*(?:{alternatives})\s*+(?::\s*+)?$", re.IGNORECASE)
    out: set[int] = set()
    for index, paragraph in enumerate(article.paragraphs):
        line = article.text[paragraph.start:paragraph.end]
        if bare.match(line):
            out.update(i for i in (index + 1, index + 2) if i < len(article.paragraphs))
        elif label.match(line):
            out.add(index)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class _Cues:
    """Cue words with weights, matched as whole words, longest first."""

    pattern: re.Pattern[str] | None
    weights: Mapping[str, float]

    @classmethod
    def from_table(cls, rows: Iterable[Mapping[str, str]]) -> _Cues:
        weights: dict[str, float] = {}
        for row in rows:
            try:
                weights[row["cue"].lower()] = float(row["weight"])
            except (KeyError, ValueError) as exc:
                raise RuleError(f"citation_cues.tsv: bad row {dict(row)}: {exc}") from exc
        if not weights:
            return cls(None, weights)
        alternatives = "|".join(re.escape(c) for c in sorted(weights, key=len, reverse=True))
        return cls(re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE), weights)

    def bonus(self, sentence: str) -> float:
        if self.pattern is None:
            return 0.0
        found = {m.group(0).lower() for m in self.pattern.finditer(sentence)}
        values = [self.weights[c] for c in found]
        return min(MAX_CUE_BONUS, sum(v for v in values if v > 0)) + sum(v for v in values if v < 0)


# -- scoring ------------------------------------------------------------------------------------


def _score(article: Article, mentions: list[_Mention], cues: _Cues) -> tuple[Citation, ...]:
    grouped: dict[tuple[CitationKind, str], list[_Mention]] = {}
    for mention in mentions:
        grouped.setdefault((mention.kind, mention.value), []).append(mention)
    ranked: list[tuple[float, int, bool, Citation]] = []
    bonuses: dict[str, float] = {}  # the cue bonus of each quote, read once
    for order, ((kind, value), group) in enumerate(grouped.items()):
        pairs = sorted(((_mention_score(m, len(article.text), cues, bonuses), m) for m in group),
                       key=lambda pair: pair[0], reverse=True)
        best_points, best = pairs[0]
        repeats = min(MAX_REPEATS, sum(1 for _, m in pairs[1:] if m.region not in LOW_REGIONS))
        secondary = all(m.secondary for m in group)
        weight = KIND_WEIGHT[kind] * (SECONDARY_WEIGHT if secondary else 1.0)
        score = round(weight * (best_points + REPEAT_BONUS * repeats), 4)
        eligible = not secondary and any(m.region not in LOW_REGIONS for m in group)
        ranked.append((score, -order, eligible,
                       Citation(kind=kind, value=value, quote=best.quote, score=score)))
    ranked.sort(key=lambda item: (item[0], item[1]), reverse=True)
    primary = next((i for i, item in enumerate(ranked)
                    if item[2] and item[3].kind in RESOLVABLE), None)
    if primary is None:
        primary = next((i for i, item in enumerate(ranked) if item[2]), None)
    return tuple(replace(item[3], primary=True) if i == primary else item[3]
                 for i, item in enumerate(ranked))


def _mention_score(mention: _Mention, length: int, cues: _Cues,
                   bonuses: dict[str, float]) -> float:
    quote = mention.quote or ""
    if quote not in bonuses:
        bonuses[quote] = cues.bonus(quote)
    points = max(0.1, 1.0 + bonuses[quote])
    if mention.label_line:
        points += LABEL_BONUS
    if mention.start is not None and length:
        points += POSITION_BONUS * (1 - mention.start / length)
    return points * REGION_WEIGHT.get(mention.region, REGION_WEIGHT["other"])


__all__ = ["LinkRole", "LinkTarget", "find_citations", "link_target", "normalize_doi"]
