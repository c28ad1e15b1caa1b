"""Search semantics for the literature-service stand-in (`tests/fakes.py`).

One boolean query language with two dialects, a searchable view of a paper (`Record`) and the
ranked matching Crossref and OpenAlex do. Written from the services' own search documentation:

- PubMed (`parse_pubmed`): `term[tag]`, `"quoted phrase"[tag]`, AND / OR / NOT in upper case,
  processed strictly left to right (PubMed's rule; parentheses change the order), implicit AND
  between terms, trailing `*` truncation. A tag applies to every unquoted word since the last
  operator or parenthesis, as PubMed reads `New England Journal of Medicine[ta]` or
  `Smith J[au]`. Date ranges: `2019/01/01:2019/06/30[dp]`, `2019:2020[dp]` and
  `"2018/11/01"[dp] : "2019/05/01"[dp]`. Unknown tags are searched as all fields, as PubMed does.
- Europe PMC (`parse_europepmc`): `FIELD:value`, `FIELD:"phrase"`, `FIELD:[a TO b]` (inclusive)
  and `FIELD:{a TO b}` (exclusive), `FIELD:(a OR b)`, AND / OR / NOT with the usual precedence
  (NOT and AND bind tighter than OR), implicit AND, trailing `*`.
- OpenAlex `search=` is read with the Europe PMC grammar but without fields, over title and
  abstract, with stop words removed and plurals folded (OpenAlex stems with Kstem).

Matching folds case and diacritics (Mørch = Morch), ignores apostrophes, drops PubMed's stop
words from unquoted words, matches whole words (a trailing `*` matches a prefix) and phrases as
consecutive words within one field. Evaluation is three-valued: a term made only of stop words
is ignored (None), as PubMed ignores it, instead of matching everything or nothing.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Callable, Iterable, Sequence, Union

# -- text -------------------------------------------------------------------------------------

_FOLD = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE",
                       "ß": "ss", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D",
                       "þ": "th", "Þ": "Th", "ı": "i", "'": "", "’": "", "‘": ""})
_WORD = re.compile(r"[a-z0-9]+")

# PubMed's published stop word list (ignored when a search is not a quoted phrase)
PUBMED_STOPWORDS = frozenset("""
a about again all almost also although always among an and another any are as at be because
been before being between both but by can could did do does done due during each either enough
especially etc for found from further had has have having here how however i if in into is it
its itself just kg km made mainly make may mg might ml mm most mostly must nearly neither no nor
obtained of often on our overall perhaps pmid quite rather really regarding seem seen several
should show showed shown shows significantly since so some such than that the their theirs them
then there therefore these they this those through thus to upon use used using various very was
we were what when which while with within without would""".split())
# Lucene's English stop words, as Elasticsearch-based services (OpenAlex, Crossref) drop them
ENGLISH_STOPWORDS = frozenset("""a an and are as at be but by for if in into is it no not of on
or such that the their then there these they this to was will with""".split())


def fold(text: str) -> str:
    """Lower case without diacritics or apostrophes: "Mørch" -> "morch", "O'Brien" -> "obrien"."""
    text = unicodedata.normalize("NFKD", text.translate(_FOLD))
    return "".join(c for c in text if not unicodedata.combining(c)).lower()


def words(text: str | None) -> list[str]:
    """The folded words of `text` (runs of letters and digits)."""
    return _WORD.findall(fold(text or ""))


def stem(word: str) -> str:
    """A light plural folding ("trials" -> "trial", "studies" -> "study"), after Kstem."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("ches", "shes", "sses", "xes", "zes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


# -- dates ------------------------------------------------------------------------------------

Span = tuple[date, date]
_DATE = re.compile(r"(\d{4})(?:[/.-](\d{1,2})(?:[/.-](\d{1,2}))?)?")


def date_span(text: str | None) -> Span | None:
    """The days a date stands for: "2019" -> the year, "2019/03" -> March, "2019-03-05" -> a day;
    "*" -> open. None when `text` is not a date."""
    text = (text or "").strip().strip('"').strip()
    if text == "*":
        return date.min, date.max
    m = _DATE.fullmatch(text)
    if not m or not 1 <= int(m[1]) <= 9999:
        return None
    year = int(m[1])
    if m[2] is None:
        return date(year, 1, 1), date(year, 12, 31)
    month = int(m[2])
    if not 1 <= month <= 12:
        return None
    last = calendar.monthrange(year, month)[1]
    if m[3] is None:
        return date(year, month, 1), date(year, month, last)
    day = int(m[3])
    if not 1 <= day <= last:
        return None
    return date(year, month, day), date(year, month, day)


def range_span(lo: str | None, hi: str | None, inclusive: tuple[bool, bool] = (True, True)
               ) -> Span | None:
    """From the start of `lo`'s span to the end of `hi`'s ("*" or None: open)."""
    lo_span, hi_span = date_span(lo or "*"), date_span(hi or "*")
    if lo_span is None or hi_span is None:
        return None
    start = lo_span[0] if inclusive[0] or lo_span[1] == date.max else _next_day(lo_span[1])
    end = hi_span[1] if inclusive[1] or hi_span[0] == date.min else _prev_day(hi_span[0])
    return start, end


def _next_day(d: date) -> date:
    return d if d == date.max else date.fromordinal(d.toordinal() + 1)


def _prev_day(d: date) -> date:
    return d if d == date.min else date.fromordinal(d.toordinal() - 1)


def overlaps(a: Span | None, b: Span | None) -> bool:
    return a is not None and b is not None and a[0] <= b[1] and b[0] <= a[1]


# -- a searchable paper -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Split:
    """One reading of an author's name: forename words, surname key, initials."""

    fore: tuple[str, ...]
    last: str  # the surname's folded words joined: "Bye-Møller" -> "byemoller"
    initials: str


def name_splits(name: str) -> list[_Split]:
    """Every reading of "Forenames Surname" with a surname of one or more final words
    ("Karin Due Bruun": Bruun KD, or Due Bruun K)."""
    raw = name.replace(",", " ").split()
    if len(raw) == 1:
        return [_Split((), "".join(words(raw[0])), "")]
    splits = []
    for k in range(len(raw) - 1, 0, -1):  # the usual reading (last word) first
        fore = tuple(words(" ".join(raw[:k])))
        splits.append(_Split(fore, "".join(words(" ".join(raw[k:]))),
                             "".join(w[0] for w in fore)))
    return splits


class Record:
    """What a service has indexed of one paper: the fields the query languages search."""

    def __init__(self, *, title: str | None = None, abstract: str = "",
                 journals: Iterable[str] = (), issns: Iterable[str] = (),
                 authors: Sequence[str] = (), year: int | None = None, span: Span | None = None,
                 doi: str | None = None, pmid: str | None = None, pmcid: str | None = None,
                 ext_id: str | None = None, source: str = "MED",
                 pub_types: Iterable[str] = (), has_abstract: bool = False,
                 retracted: bool = False, item: object = None):
        self.title = title or ""
        self.abstract = abstract
        self.journals = tuple(j for j in journals if j)
        self.issns = tuple(re.sub(r"[^0-9X]", "", i.upper()) for i in issns if i)
        self.authors = tuple(authors)
        self.year = year
        self.span = span if span is not None else (
            (date(year, 1, 1), date(year, 12, 31)) if year else None)
        self.doi = (doi or "").lower() or None
        self.pmid, self.pmcid, self.ext_id, self.source = pmid, pmcid, ext_id, source
        self.pub_types = tuple(pub_types)
        self.has_abstract = has_abstract
        self.retracted = retracted
        self.item = item  # what the record stands for (the stand-in's entry)
        self._segments: dict[tuple[str, bool], list[list[str]]] = {}

    def segments(self, field: str, stemmed: bool = False) -> list[list[str]]:
        """The field's text as lists of words; a phrase never spans two lists."""
        key = (field, stemmed)
        if key not in self._segments:
            if field == "title":
                segs = [words(self.title)]
            elif field == "abstract":
                segs = [words(self.abstract)]
            elif field == "tiab":
                segs = self.segments("title") + self.segments("abstract")
            elif field == "journal":
                segs = [journal_words(j) for j in self.journals]
            elif field == "author":
                segs = []
                for name in self.authors:
                    split = name_splits(name)[0]
                    segs += [words(name), words(name)[len(split.fore):] + [split.initials]]
            elif field == "year":
                segs = [[str(self.year)]] if self.year else []
            elif field == "all":
                segs = [s for f in ("title", "abstract", "journal", "author", "year")
                        for s in self.segments(f)]
            else:
                raise ValueError(f"no text field {field!r}")
            if stemmed:
                segs = [[stem(w) for w in seg] for seg in segs]
            self._segments[key] = segs
        return self._segments[key]

    def newest_first(self) -> tuple:
        """A sort key: newest publication first, undated last."""
        return (-(self.span[1].toordinal() if self.span else 0),)


def journal_words(text: str) -> list[str]:
    """A journal name's words, "&" read as "and", "the" ignored."""
    return [w for w in words(text.replace("&", " and ")) if w != "the"]


# ISO abbreviations (NLM catalog) of journals health news cites most; others: give journal_abbrev
JOURNAL_ABBREVIATIONS = {
    "New England Journal of Medicine": "N Engl J Med", "Lancet": "Lancet", "JAMA": "JAMA",
    "Journal of the American Medical Association": "JAMA", "BMJ": "BMJ",
    "British Medical Journal": "BMJ", "Nature": "Nature", "Science": "Science",
    "Nature Medicine": "Nat Med", "Nature Communications": "Nat Commun",
    "Nature Human Behaviour": "Nat Hum Behav", "PLoS One": "PLoS One",
    "PLoS Medicine": "PLoS Med", "JAMA Internal Medicine": "JAMA Intern Med",
    "JAMA Network Open": "JAMA Netw Open", "JAMA Pediatrics": "JAMA Pediatr",
    "JAMA Psychiatry": "JAMA Psychiatry", "JAMA Neurology": "JAMA Neurol",
    "JAMA Oncology": "JAMA Oncol", "JAMA Cardiology": "JAMA Cardiol",
    "Annals of Internal Medicine": "Ann Intern Med", "BMJ Open": "BMJ Open",
    "Circulation": "Circulation", "European Heart Journal": "Eur Heart J",
    "Journal of the American College of Cardiology": "J Am Coll Cardiol",
    "Lancet Public Health": "Lancet Public Health", "Lancet Oncology": "Lancet Oncol",
    "Lancet Neurology": "Lancet Neurol", "Lancet Psychiatry": "Lancet Psychiatry",
    "Lancet Diabetes & Endocrinology": "Lancet Diabetes Endocrinol",
    "Lancet Infectious Diseases": "Lancet Infect Dis", "Diabetes Care": "Diabetes Care",
    "American Journal of Clinical Nutrition": "Am J Clin Nutr", "Pediatrics": "Pediatrics",
    "Neurology": "Neurology", "Stroke": "Stroke", "CNS Drugs": "CNS Drugs",
    "Proceedings of the National Academy of Sciences of the United States of America":
        "Proc Natl Acad Sci U S A",
    "Cell": "Cell", "Scientific Reports": "Sci Rep", "Gut": "Gut", "Sleep": "Sleep",
    "Alzheimer's & Dementia": "Alzheimers Dement", "Nutrients": "Nutrients",
    "Cochrane Database of Systematic Reviews": "Cochrane Database Syst Rev",
    "International Journal of Epidemiology": "Int J Epidemiol",
    "American Journal of Epidemiology": "Am J Epidemiol",
    "Journal of Clinical Oncology": "J Clin Oncol", "Obesity": "Obesity (Silver Spring)",
    "Journal of the American Heart Association": "J Am Heart Assoc",
}
_ABBREVIATIONS = {" ".join(journal_words(k)): v for k, v in JOURNAL_ABBREVIATIONS.items()}
_FULL_TITLES = {" ".join(journal_words(v)): k for k, v in JOURNAL_ABBREVIATIONS.items()
                if journal_words(k) != journal_words(v)}


def abbreviation_for(journal: str) -> str | None:
    """The ISO abbreviation of a journal the table knows ("New England Journal of Medicine")."""
    return _ABBREVIATIONS.get(" ".join(journal_words(journal)))


def full_title_for(abbreviation: str) -> str | None:
    """The full title of a journal the table knows by its abbreviation ("N Engl J Med")."""
    return _FULL_TITLES.get(" ".join(journal_words(abbreviation)))


# -- query trees ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    field: str
    text: str
    quoted: bool = False


@dataclass(frozen=True)
class Range:
    field: str
    lo: str
    hi: str
    inclusive: tuple[bool, bool] = (True, True)


@dataclass(frozen=True)
class Bool:
    op: str  # AND | OR | NOT ("left AND NOT right")
    left: Node
    right: Node


@dataclass(frozen=True)
class Neg:
    node: Node


Node = Union[Term, Range, Bool, Neg, None]

TEXT_FIELDS = frozenset({"all", "title", "abstract", "tiab"})


@dataclass(frozen=True)
class Options:
    """How a dialect matches: stop words dropped from unquoted words, plurals folded, quoted
    author names without truncated initials (PubMed), journals whole or as a phrase in them."""

    stopwords: frozenset[str] = PUBMED_STOPWORDS
    stemmed: bool = False
    quoted_author_exact: bool = False
    journal_whole: bool = True


PUBMED = Options(quoted_author_exact=True, journal_whole=True)
EUROPEPMC = Options(journal_whole=False)
OPENALEX = Options(stopwords=ENGLISH_STOPWORDS, stemmed=True, journal_whole=False)


def _query_words(text: str, quoted: bool, opts: Options) -> tuple[list[str], bool]:
    """(words, last word truncated): stop words dropped unless quoted, stemmed if the dialect
    stems."""
    prefix = text.rstrip().rstrip('"').rstrip().endswith("*")
    toks = words(text)
    if not quoted:
        toks = [t for t in toks if t not in opts.stopwords]
    if opts.stemmed:
        toks = [t if (prefix and i == len(toks) - 1) else stem(t) for i, t in enumerate(toks)]
    return toks, prefix and bool(toks)


def _word_in(word: str, seg: Sequence[str], prefix: bool) -> bool:
    return any(w == word or (prefix and w.startswith(word)) for w in seg)


def _phrase_in(phrase: Sequence[str], seg: Sequence[str], prefix: bool) -> bool:
    n = len(phrase)
    for i in range(len(seg) - n + 1):
        if list(seg[i:i + n - 1]) == list(phrase[:-1]) and (
                seg[i + n - 1] == phrase[-1] or (prefix and seg[i + n - 1].startswith(phrase[-1]))):
            return True
    return False


def text_match(term: Term, rec: Record, field: str, opts: Options) -> bool | None:
    """Whether the term's words (or phrase, when quoted) are in `field`; None: only stop words."""
    toks, prefix = _query_words(term.text, term.quoted, opts)
    if not toks:
        return None
    segs = rec.segments(field, opts.stemmed)
    if term.quoted and len(toks) > 1:
        return any(_phrase_in(toks, seg, prefix) for seg in segs)
    return all(any(_word_in(t, seg, prefix and i == len(toks) - 1) for seg in segs)
               for i, t in enumerate(toks))


def author_match(query: str, names: Sequence[str], exact_initials: bool = False) -> bool:
    """Whether any of `names` ("Forenames Surname") is the author `query` names: "Smith",
    "Smith J", "Smith JA", "John Smith", "Smith John", "Smith, John A"; "smi*" truncates the
    surname. Initials truncate ("Smith J" finds Smith JA) unless `exact_initials`."""
    q = query.strip().strip('"').strip()
    prefix = q.endswith("*")
    q = q.rstrip("*").strip()
    inverted = "," in q
    raw = q.replace(",", " ").split()
    if not raw:
        return False
    whole = "".join(words(" ".join(raw)))
    for name in names:
        for split in name_splits(name):
            if split.last == whole or (prefix and split.last.startswith(whole)):
                return True
            if len(raw) >= 2 and re.fullmatch(r"[A-Za-z]{1,3}", raw[-1]):
                initials = raw[-1].lower()
                if split.last == "".join(words(" ".join(raw[:-1]))) and (
                        split.initials == initials if exact_initials
                        else split.initials.startswith(initials)):
                    return True
            for m in range(1, len(raw)):
                orders = [(raw[m:], raw[:m])] if inverted else [(raw[:m], raw[m:]),
                                                                (raw[m:], raw[:m])]
                for fore_q, last_q in orders:
                    fq = words(" ".join(fore_q))
                    # a full name has a forename spelled out ("Smith T" is surname + initials)
                    if ("".join(words(" ".join(last_q))) == split.last
                            and any(len(w) > 1 for w in fq) and len(fq) <= len(split.fore)
                            and all(w == f or (len(w) == 1 and f.startswith(w))
                                    for w, f in zip(fq, split.fore))):
                        return True
    return False


def journal_match(text: str, journals: Sequence[str], whole: bool) -> bool:
    """The journal named by its full title or abbreviation: the whole name (PubMed [ta]) or a
    phrase in it (Europe PMC JOURNAL:); a trailing "*" matches a name's beginning."""
    prefix = text.rstrip().rstrip('"').rstrip().endswith("*")
    q = journal_words(text)
    if not q:
        return False
    for j in journals:
        cand = journal_words(j)
        if whole:
            if cand == q or (prefix and cand[:len(q)] == q):
                return True
        elif _phrase_in(q, cand, prefix):
            return True
    return False


def _year_of(text: str) -> int | None:
    text = text.strip().strip('"')
    if text == "*":
        return None
    return int(text) if re.fullmatch(r"\d{4}", text) else None


def evaluate(node: Node, rec: Record, opts: Options) -> bool | None:
    """Whether `rec` matches the query tree; None when the tree says nothing (stop words)."""
    if node is None:
        return None
    if isinstance(node, Bool):
        left, right = evaluate(node.left, rec, opts), evaluate(node.right, rec, opts)
        if node.op == "NOT":
            if right is None:
                return left
            return (not right) if left is None else (left and not right)
        if left is None or right is None:
            return right if left is None else left
        return (left and right) if node.op == "AND" else (left or right)
    if isinstance(node, Neg):
        inner = evaluate(node.node, rec, opts)
        return None if inner is None else not inner
    if isinstance(node, Range):
        return _range_match(node, rec)
    return _term_match(node, rec, opts)


def _range_match(node: Range, rec: Record) -> bool:
    if node.field == "year":
        lo, hi = _year_of(node.lo), _year_of(node.hi)
        if rec.year is None:
            return False
        lo_ok = lo is None or (rec.year >= lo if node.inclusive[0] else rec.year > lo)
        hi_ok = hi is None or (rec.year <= hi if node.inclusive[1] else rec.year < hi)
        return lo_ok and hi_ok
    if node.field == "date":
        return overlaps(rec.span, range_span(node.lo, node.hi, node.inclusive))
    return False


def _term_match(term: Term, rec: Record, opts: Options) -> bool | None:
    field, text = term.field, term.text.strip()
    value = fold(text.strip('"')).strip()
    if field in TEXT_FIELDS:
        return text_match(term, rec, field, opts)
    if field in ("author", "first_author", "last_author"):
        names = (rec.authors if field == "author" else rec.authors[:1] if field == "first_author"
                 else rec.authors[-1:])
        return author_match(text, names, opts.quoted_author_exact and term.quoted)
    if field == "journal":
        return journal_match(text, rec.journals, opts.journal_whole)
    if field == "date":
        return overlaps(rec.span, date_span(text))
    if field == "year":
        year = _year_of(text)
        return year is not None and rec.year == year
    if field == "issn":
        return re.sub(r"[^0-9X]", "", text.upper()) in rec.issns
    if field == "doi":
        return rec.doi is not None and rec.doi == value
    if field == "pmid":
        return rec.pmid is not None and rec.pmid == value
    if field == "pmcid":
        return rec.pmcid is not None and rec.pmcid.upper().removeprefix("PMC") == \
            value.upper().removeprefix("PMC")
    if field == "ext_id":
        return (rec.ext_id or "").lower() == value
    if field == "src":
        return rec.source.lower() == value
    if field == "pub_type":
        prefix = value.endswith("*")
        want = words(value)
        return any(words(t) == want or (prefix and words(t)[:len(want)] == want)
                   for t in rec.pub_types)
    if field == "lang":
        return value in ("english", "eng", "en")
    if field == "has_abstract":
        return rec.has_abstract == (value in ("y", "yes", "true"))
    if field == "subset":  # PubMed [sb]: only "hasabstract" is known to the stand-in
        return rec.has_abstract if value.replace(" ", "") == "hasabstract" else True
    if field == "flag_no":  # a Y/N flag every stand-in record has as N (OPEN_ACCESS, IN_PMC)
        return value in ("n", "no", "false")
    return False  # a field the stand-in does not index (MeSH, keywords, affiliations...)


def positive_terms(node: Node) -> list[Term]:
    """The text terms a match is ranked by (not those under NOT)."""
    if isinstance(node, Term):
        return [node] if node.field in TEXT_FIELDS else []
    if isinstance(node, Bool):
        return positive_terms(node.left) + (positive_terms(node.right)
                                            if node.op != "NOT" else [])
    return []


_COVER = {"all": ("title", "abstract", "rest"), "tiab": ("title", "abstract"),
          "title": ("title",), "abstract": ("abstract",)}
_WEIGHT = {"title": 3.0, "abstract": 1.0, "rest": 0.5}


def relevance(node: Node, rec: Record, opts: Options) -> float:
    """Title hits count most, then abstract hits, then hits elsewhere (authors, journal)."""
    score = 0.0
    for term in positive_terms(node):
        for where in _COVER[term.field]:
            hit = (text_match(term, rec, where, opts) if where != "rest"
                   else any(text_match(term, rec, f, opts) for f in ("journal", "author", "year")))
            if hit:
                score += _WEIGHT[where]
                break
    return score


def search(node: Node, records: Sequence[Record], opts: Options) -> list[tuple[float, Record]]:
    """(relevance, record) for the matching records, best first, ties newest first."""
    hits = [(relevance(node, r, opts), r) for r in records if evaluate(node, r, opts) is True]
    return sorted(hits, key=lambda t: (-t[0], t[1].newest_first()))


# -- tokens -----------------------------------------------------------------------------------

@dataclass
class _Tok:
    kind: str  # LP RP OP TERM RANGE COLON FIELD
    text: str = ""
    quoted: bool = False
    tag: str | None = None
    hi: str = ""
    inclusive: tuple[bool, bool] = (True, True)


_QUOTES = '"“”'


def _quoted(s: str, i: int) -> tuple[str, int]:
    """The phrase opening at s[i] (a quote) and the index after its closing quote."""
    j = i + 1
    while j < len(s) and s[j] not in _QUOTES:
        j += 1
    return s[i + 1:j], min(j + 1, len(s))


def _bare(s: str, i: int, stops: str) -> tuple[str, int]:
    """A word from s[i]: up to a space, a quote or a character of `stops`; parentheses inside a
    word ("s0140-6736(20)30183-5") stay in it."""
    j, depth = i, 0
    while j < len(s):
        ch = s[j]
        if ch.isspace() or ch in _QUOTES or ch in stops:
            break
        if ch == "(":
            if j == i:
                break
            depth += 1
        elif ch == ")":
            if depth == 0:
                break
            depth -= 1
        j += 1
    return s[i:j], j


# -- PubMed -----------------------------------------------------------------------------------

PUBMED_TAGS = {
    "au": "author", "author": "author", "auth": "author", "fau": "author",
    "full author name": "author", "author - full": "author",
    "1au": "first_author", "first author": "first_author", "first author name": "first_author",
    "lastau": "last_author", "last author": "last_author", "last author name": "last_author",
    "ta": "journal", "journal": "journal", "jour": "journal", "jt": "journal",
    "ti": "title", "title": "title",
    "tiab": "tiab", "title/abstract": "tiab", "tw": "tiab", "text word": "tiab",
    "ab": "abstract", "abstract": "abstract",
    "dp": "date", "pdat": "date", "publication date": "date", "date - publication": "date",
    "epdat": "date", "date - electronic publication": "date", "ppdat": "date",
    "doi": "doi", "aid": "doi", "lid": "doi", "article identifier": "doi",
    "pmid": "pmid", "uid": "pmid",
    "pt": "pub_type", "publication type": "pub_type", "ptyp": "pub_type",
    "la": "lang", "lang": "lang", "language": "lang",
    "is": "issn", "issn": "issn",
    "sb": "subset", "filter": "subset", "subset": "subset",
    "all": "all", "all fields": "all",
}
# real PubMed fields the stand-in holds nothing for: a term in them matches no paper
PUBMED_UNINDEXED = frozenset({
    "mh", "mesh", "mesh terms", "majr", "mesh major topic", "sh", "subheading", "ot", "kw",
    "keyword", "other term", "nm", "ad", "affiliation", "gr", "grant number", "si", "ps", "pa",
    "ir", "investigator", "cn", "corporate author", "ed", "editor", "vi", "volume", "ip",
    "issue", "pg", "pagination", "pl", "place of publication", "jid", "rn", "tt",
    "transliterated title", "book", "isbn", "conflict of interest statement", "cois",
})
_PUBMED_DATE_TAGS = frozenset(t for t, f in PUBMED_TAGS.items() if f == "date")


def pubmed_field(tag: str | None, default: str) -> str:
    if tag is None:
        return default
    tag = " ".join(tag.lower().split())
    if tag in PUBMED_TAGS:
        return PUBMED_TAGS[tag]
    if tag in PUBMED_UNINDEXED:
        return "unindexed"
    return "all"  # PubMed searches a term with an unrecognized tag in all fields


def _pubmed_tokens(s: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        if c in "():":
            toks.append(_Tok({"(": "LP", ")": "RP", ":": "COLON"}[c]))
            i += 1
            continue
        if c == "[":  # a tag with no term before it
            end = s.find("]", i)
            i = n if end < 0 else end + 1
            continue
        if c in _QUOTES:
            text, i = _quoted(s, i)
            quoted = True
        else:
            text, i = _bare(s, i, "[")
            quoted = False
        k = i
        while k < n and s[k].isspace():
            k += 1
        tag = None
        if k < n and s[k] == "[":
            end = s.find("]", k)
            end = n if end < 0 else end
            tag, i = s[k + 1:end].strip().lower(), min(end + 1, n)
        if not quoted and tag is None and text in ("AND", "OR", "NOT"):
            toks.append(_Tok("OP", text))
        else:
            toks.append(_Tok("TERM", text, quoted, tag))
    # a tag applies to the unquoted words before it, back to an operator or parenthesis
    merged: list[_Tok] = []
    for tok in toks:
        if tok.kind == "TERM" and tok.tag is not None and not tok.quoted:
            run = []
            while (merged and merged[-1].kind == "TERM" and merged[-1].tag is None
                   and not merged[-1].quoted):
                run.insert(0, merged.pop().text)
            tok.text = " ".join(run + [tok.text])
        merged.append(tok)
    # "2018/11/01"[dp] : "2019/05/01"[dp] is a range; other colons between terms mean nothing
    out: list[_Tok] = []
    for tok in merged:
        if (tok.kind == "TERM" and tok.tag in _PUBMED_DATE_TAGS and len(out) >= 2
                and out[-1].kind == "COLON" and out[-2].kind == "TERM"
                and out[-2].tag in _PUBMED_DATE_TAGS):
            out.pop()
            start = out.pop()
            out.append(_Tok("RANGE", start.text, tag=start.tag, hi=tok.text))
        else:
            out.append(tok)
    return [t for t in out if t.kind != "COLON"]


def parse_pubmed(term: str, default_field: str = "all") -> Node:
    """The query tree of an esearch `term` (see the module docstring)."""
    toks = _pubmed_tokens(term)
    pos = 0

    def leaf(tok: _Tok) -> Node:
        field = pubmed_field(tok.tag, default_field)
        if tok.kind == "RANGE":
            return Range("date", tok.text, tok.hi)
        if field == "date" and ":" in tok.text:
            lo, _, hi = tok.text.partition(":")
            return Range("date", lo, hi)
        return Term(field, tok.text, tok.quoted)

    def unit() -> Node:
        nonlocal pos
        while pos < len(toks):
            tok = toks[pos]
            pos += 1
            if tok.kind == "LP":
                inner = expr()
                if pos < len(toks) and toks[pos].kind == "RP":
                    pos += 1
                return inner
            if tok.kind in ("TERM", "RANGE"):
                return leaf(tok)
            if tok.kind == "OP" and tok.text == "NOT":
                return Neg(unit())
            if tok.kind == "RP":
                pos -= 1
                return None
            # a stray AND / OR: skip it
        return None

    def expr() -> Node:
        nonlocal pos
        left = unit()
        while pos < len(toks) and toks[pos].kind != "RP":
            op = "AND"
            if toks[pos].kind == "OP":
                op = toks[pos].text
                pos += 1
            right = unit()
            left = right if left is None and op != "NOT" else Bool(op, left, right)
        return left

    node = expr()
    while pos < len(toks):  # an unmatched ")": skip it and go on, ANDing what follows
        pos += 1
        rest = expr()
        node = rest if node is None else Bool("AND", node, rest) if rest is not None else node
    return node


# -- Europe PMC (and OpenAlex search) ---------------------------------------------------------

EUROPEPMC_FIELDS = {
    "AUTH": "author", "AUTHOR": "author", "FIRST_AUTH": "first_author",
    "LAST_AUTH": "last_author", "JOURNAL": "journal", "JOUR": "journal", "ISSN": "issn",
    "ESSN": "issn", "TITLE": "title", "ABSTRACT": "abstract", "TITLE_ABS": "tiab",
    "PUB_YEAR": "year", "FIRST_PDATE": "date", "E_PDATE": "date", "P_PDATE": "date",
    "DOI": "doi", "EXT_ID": "ext_id", "SRC": "src", "PMCID": "pmcid", "PMID": "pmid",
    "HAS_ABSTRACT": "has_abstract", "PUB_TYPE": "pub_type", "LANG": "lang",
    "OPEN_ACCESS": "flag_no", "IN_EPMC": "flag_no", "IN_PMC": "flag_no", "HAS_PDF": "flag_no",
    "HAS_FT": "flag_no",
}
_FIELD = re.compile(r"([A-Za-z_]+):")
_RANGE = re.compile(r"\s*(\S+)\s+TO\s+(\S+)\s*")


def _europepmc_tokens(s: str, fields: bool) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c.isspace():
            i += 1
            continue
        if c in "()":
            toks.append(_Tok("LP" if c == "(" else "RP"))
            i += 1
            continue
        if c in _QUOTES:
            text, i = _quoted(s, i)
            toks.append(_Tok("TERM", text, True))
            continue
        m = _FIELD.match(s, i) if fields else None
        if m and (m[1].upper() in EUROPEPMC_FIELDS or m[1].isupper()):
            tag, i = m[1].upper(), m.end()
            if i < n and s[i] in _QUOTES:
                text, i = _quoted(s, i)
                toks.append(_Tok("TERM", text, True, tag))
            elif i < n and s[i] in "[{":
                close = s.find("]" if s[i] == "[" else "}", i)
                close = n if close < 0 else close
                inner = s[i + 1:close]
                incl_lo = s[i] == "["
                incl_hi = close < n and s[close] == "]"
                i = min(close + 1, n)
                r = _RANGE.fullmatch(inner)
                if r:
                    toks.append(_Tok("RANGE", r[1].strip('"'), tag=tag, hi=r[2].strip('"'),
                                     inclusive=(incl_lo, incl_hi)))
                else:
                    toks.append(_Tok("TERM", inner, False, tag))
            elif i < n and s[i] == "(":
                toks.append(_Tok("FIELD", tag=tag))
            else:
                text, i = _bare(s, i, "")
                toks.append(_Tok("TERM", text, False, tag))
            continue
        text, i = _bare(s, i, "")
        if text in ("AND", "OR", "NOT", "&&", "||"):
            toks.append(_Tok("OP", {"&&": "AND", "||": "OR"}.get(text, text)))
        elif text:
            toks.append(_Tok("TERM", text, False))
        else:  # a lone character _bare will not take
            i += 1
    return toks


def parse_europepmc(query: str, default_field: str = "all", fields: bool = True) -> Node:
    """The query tree of a Europe PMC `query` (OpenAlex `search`: fields=False)."""
    toks = _europepmc_tokens(query, fields)
    pos = 0

    def leaf(tok: _Tok, default: str) -> Node:
        field = (EUROPEPMC_FIELDS.get(tok.tag, "unindexed") if tok.tag else default)
        if tok.kind == "RANGE":
            return Range(field, tok.text, tok.hi, tok.inclusive)
        return Term(field, tok.text, tok.quoted)

    def unary(default: str) -> Node:
        nonlocal pos
        while pos < len(toks):
            tok = toks[pos]
            pos += 1
            if tok.kind == "OP" and tok.text == "NOT":
                return Neg(unary(default))
            if tok.kind == "OP":
                continue  # a stray AND / OR
            if tok.kind == "FIELD":
                if pos < len(toks) and toks[pos].kind == "LP":
                    pos += 1
                field = EUROPEPMC_FIELDS.get(tok.tag or "", "unindexed")
                inner = or_expr(field)
                if pos < len(toks) and toks[pos].kind == "RP":
                    pos += 1
                return inner
            if tok.kind == "LP":
                inner = or_expr(default)
                if pos < len(toks) and toks[pos].kind == "RP":
                    pos += 1
                return inner
            if tok.kind == "RP":
                pos -= 1
                return None
            return leaf(tok, default)
        return None

    def and_expr(default: str) -> Node:
        nonlocal pos
        left = unary(default)
        while pos < len(toks) and toks[pos].kind != "RP" and not (
                toks[pos].kind == "OP" and toks[pos].text == "OR"):
            op = "AND"
            if toks[pos].kind == "OP":
                op = toks[pos].text
                pos += 1
                if op == "NOT":
                    left = Bool("NOT", left, unary(default))
                    continue
            right = unary(default)
            left = right if left is None else Bool(op, left, right)
        return left

    def or_expr(default: str) -> Node:
        nonlocal pos
        left = and_expr(default)
        while pos < len(toks) and toks[pos].kind == "OP" and toks[pos].text == "OR":
            pos += 1
            left = Bool("OR", left, and_expr(default))
        return left

    node = or_expr(default_field)
    while pos < len(toks):  # an unmatched ")"
        pos += 1
        rest = or_expr(default_field)
        node = rest if node is None else Bool("AND", node, rest) if rest is not None else node
    return node


# -- ranked search (Crossref, OpenAlex) -------------------------------------------------------

def _wordset(rec: Record, fields: Iterable[str], stemmed: bool = False) -> set[str]:
    return {w for f in fields for seg in rec.segments(f, stemmed) for w in seg}


def crossref_score(rec: Record, bibliographic: str = "", author: str = "", title: str = "",
                   container: str = "") -> float:
    """Crossref-style relevance: each distinct query word found in the title, container title,
    author names or year scores 1, one found only in the abstract 0.3; `query.author` words
    count against author names only, `query.container-title` against the journal only."""
    meta = _wordset(rec, ("title", "journal", "author", "year"))
    abstract = _wordset(rec, ("abstract",))
    score = 0.0
    for w in set(words(bibliographic)) - ENGLISH_STOPWORDS:
        score += 1.0 if w in meta else 0.3 if w in abstract else 0.0
    for text, where in ((author, ("author",)), (title, ("title",)),
                        (container, ("journal",))):
        have = _wordset(rec, where)
        score += sum(1.0 for w in set(words(text)) - ENGLISH_STOPWORDS if w in have)
    return score


def openalex_any_score(rec: Record, text: str) -> float:
    """Relevance of a search read as "any of these words" over title (3) and abstract (1)."""
    title = _wordset(rec, ("title",), True)
    abstract = _wordset(rec, ("abstract",), True)
    toks = {stem(w) for w in words(text)} - {stem(w) for w in ENGLISH_STOPWORDS}
    return sum(3.0 if w in title else 1.0 if w in abstract else 0.0 for w in toks)


# -- filters (Crossref, OpenAlex) -------------------------------------------------------------

Predicate = Callable[[Record], bool]


class QueryError(ValueError):
    """A request the service refuses, answered with `status` and the service's own `body`."""

    def __init__(self, status: int, body: dict):
        super().__init__(body)
        self.status, self.body = status, body


def _on_or_after(value: str, refuse: Callable[[str], QueryError]) -> Predicate:
    span = date_span(value)
    if span is None:
        raise refuse(value)
    return lambda r: r.span is not None and r.span[1] >= span[0]


def _on_or_before(value: str, refuse: Callable[[str], QueryError]) -> Predicate:
    span = date_span(value)
    if span is None:
        raise refuse(value)
    return lambda r: r.span is not None and r.span[0] <= span[1]


def _is_true(value: str) -> bool:
    return value.strip().lower() in ("true", "t", "1", "yes", "y")


def _issn(value: str) -> str:
    return re.sub(r"[^0-9X]", "", value.upper())


_CROSSREF_DATES = ("pub", "print-pub", "online-pub", "issued")
CROSSREF_FILTERS = tuple(f"{edge}-{kind}-date" for kind in _CROSSREF_DATES
                         for edge in ("from", "until")) + (
    "type", "doi", "issn", "prefix", "has-abstract", "container-title")
CROSSREF_QUERY_FIELDS = ("query", "query.bibliographic", "query.author", "query.contributor",
                         "query.title", "query.container-title", "query.affiliation",
                         "query.editor", "query.publisher-name")


def _crossref_refusal(kind: str, value: str, message: str) -> QueryError:
    return QueryError(400, {"status": "failed", "message-type": "validation-failure",
                            "message": [{"type": kind, "value": value, "message": message}]})


def crossref_query_check(params: dict[str, str]) -> None:
    """Refuse a `query.*` parameter Crossref does not have, as Crossref does (400)."""
    for name in params:
        if name.startswith("query") and name not in CROSSREF_QUERY_FIELDS:
            raise _crossref_refusal("unknown-parameter", name,
                                    f"Parameter {name} specified but there is no such parameter "
                                    "available on this route")


def crossref_filter(spec: str) -> Predicate:
    """The works a Crossref `filter` keeps: names AND together, repeated names OR."""
    def bad_date(value: str) -> QueryError:
        return _crossref_refusal("date-invalid", value,
                                 f"Date specified as {value} but must be of the form "
                                 "yyyy, yyyy-mm or yyyy-mm-dd")

    groups: dict[str, list[Predicate]] = {}
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, value = part.partition(":")
        name, value = name.strip().lower(), value.strip()
        pred: Predicate
        if name.endswith("-date") and name in CROSSREF_FILTERS:
            pred = (_on_or_after(value, bad_date) if name.startswith("from-")
                    else _on_or_before(value, bad_date))
        elif name == "type":
            pred = (lambda v: lambda r: v == "journal-article")(value.lower())
        elif name == "doi":
            pred = (lambda v: lambda r: r.doi == v)(value.lower().removeprefix("https://doi.org/"))
        elif name == "issn":
            pred = (lambda v: lambda r: v in r.issns)(_issn(value))
        elif name == "prefix":
            pred = (lambda v: lambda r: (r.doi or "").startswith(v + "/"))(value.lower())
        elif name == "has-abstract":
            pred = (lambda v: lambda r: r.has_abstract == v)(_is_true(value))
        elif name == "container-title":
            pred = (lambda v: lambda r: journal_match(v, r.journals, whole=True))(value)
        else:
            raise _crossref_refusal("filter-not-available", name,
                                    f"Filter {name} specified but there is no such filter for "
                                    "this route (the stand-in knows: "
                                    + ", ".join(CROSSREF_FILTERS) + ")")
        groups.setdefault(name, []).append(pred)
    return lambda r: all(any(p(r) for p in preds) for preds in groups.values())


OPENALEX_SEARCH_FILTERS = {
    "title.search": "title", "display_name.search": "title", "abstract.search": "abstract",
    "title_and_abstract.search": "tiab", "default.search": "tiab", "fulltext.search": "tiab",
}
OPENALEX_FILTERS = (
    "from_publication_date", "to_publication_date", "publication_date", "publication_year",
    "raw_author_name.search", "primary_location.source.display_name.search", "doi",
    "ids.pmid", "ids.pmcid", "type", "is_retracted", "has_abstract", "has_doi", "has_pmid",
    "language", "primary_location.source.issn", "locations.source.issn", "is_oa",
    "open_access.is_oa", *OPENALEX_SEARCH_FILTERS,
    *(f"{k}.no_stem" for k in OPENALEX_SEARCH_FILTERS))
_RAW_STEM = Options(stopwords=frozenset(), stemmed=False, journal_whole=False)


def _openalex_refusal(message: str) -> QueryError:
    return QueryError(403, {"error": "Invalid query parameters error.", "message": message})


def openalex_text(text: str, field: str = "tiab", stemmed: bool = True) -> Predicate:
    """A `search` (or `*.search` filter) over `field`: boolean, words ANDed."""
    node = parse_europepmc(text, default_field=field, fields=False)
    opts = OPENALEX if stemmed else _RAW_STEM
    return lambda r: evaluate(node, r, opts) is True


def _year_test(value: str) -> Predicate:
    if m := re.fullmatch(r"(\d{4})-(\d{4})", value):
        lo, hi = int(m[1]), int(m[2])
        return lambda r: r.year is not None and lo <= r.year <= hi
    if m := re.fullmatch(r"([<>])(\d{4})", value):
        op, y = m[1], int(m[2])
        return lambda r: r.year is not None and (r.year > y if op == ">" else r.year < y)
    if re.fullmatch(r"\d{4}", value):
        return lambda r: r.year == int(value)
    raise _openalex_refusal(f"Value for param publication_year must be a number: {value}")


def _openalex_value(name: str, value: str) -> Predicate:
    """One value of a non-search OpenAlex filter."""
    def bad_date(v: str) -> QueryError:
        return _openalex_refusal(f"Value for param {name} must be a date (yyyy-mm-dd): {v}")

    plain = value.strip().lower()
    if name == "from_publication_date":
        return _on_or_after(value, bad_date)
    if name == "to_publication_date":
        return _on_or_before(value, bad_date)
    if name == "publication_date":
        span = date_span(value)
        if span is None:
            raise bad_date(value)
        return lambda r: overlaps(r.span, span)
    if name == "publication_year":
        return _year_test(plain)
    if name == "doi":
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", plain)
        return lambda r: r.doi == doi
    if name == "ids.pmid":
        pmid = re.sub(r"\D", "", plain)
        return lambda r: r.pmid == pmid
    if name == "ids.pmcid":
        pmcid = re.sub(r"\D", "", plain)
        return lambda r: re.sub(r"\D", "", r.pmcid or "x") == pmcid
    if name == "type":
        return lambda r: plain in ("article", "journal-article")
    if name == "language":
        return lambda r: plain == "en"
    if name.endswith("source.issn"):
        return lambda r: _issn(value) in r.issns
    flag = _is_true(plain)
    tests: dict[str, Predicate] = {
        "is_retracted": lambda r: r.retracted == flag,
        "has_abstract": lambda r: r.has_abstract == flag,
        "has_doi": lambda r: (r.doi is not None) == flag,
        "has_pmid": lambda r: (r.pmid is not None) == flag,
        "is_oa": lambda r: not flag, "open_access.is_oa": lambda r: not flag,
    }
    return tests[name]


def openalex_filter(spec: str) -> Predicate:
    """The works an OpenAlex `filter` keeps: filters AND together; in a value `|` ORs
    alternatives and a leading `!` negates; `*.search` filters are text searches."""
    preds: list[Predicate] = []
    for part in (p.strip() for p in spec.split(",") if p.strip()):
        name, _, value = part.partition(":")
        name = name.strip().lower().replace("-", "_")
        if name not in OPENALEX_FILTERS:
            raise _openalex_refusal(f"{name} is not a valid field. The stand-in knows: "
                                    + ", ".join(OPENALEX_FILTERS))
        base = name.removesuffix(".no_stem")
        if base in OPENALEX_SEARCH_FILTERS:
            preds.append(openalex_text(value, OPENALEX_SEARCH_FILTERS[base],
                                       stemmed=not name.endswith(".no_stem")))
            continue
        if name == "raw_author_name.search":
            want = words(value)
            preds.append(lambda r, want=want: any(set(want) <= set(words(a))
                                                  for a in r.authors))
            continue
        if name == "primary_location.source.display_name.search":
            want = journal_words(value)
            preds.append(lambda r, want=want: any(set(want) <= set(journal_words(j))
                                                  for j in r.journals[:1]))
            continue
        negate = value.startswith("!")
        alternatives = [_openalex_value(name, v) for v in value.lstrip("!").split("|")]
        preds.append(lambda r, alts=alternatives, neg=negate:
                     any(a(r) for a in alts) != neg)
    return lambda r: all(p(r) for p in preds)
