"""Find the numbers in a text, with exact character spans, and normalise them to `Quantity`.

The finder works on the raw string, not on tokens, so its spans do not depend on how a tokenizer
splits "0.05-2.4" or "P<.001". Passes run in priority order and claim the characters they use, so a
later, more generic pass never re-reads a number an earlier one explained:

1. p-values ("P < .001", "p=0.03");
2. confidence intervals ("95% CI 0.4–3.7", "(95% confidence interval (CI) 0.4-3.7 kPa)", "[0.4; 3.7]");
3. named ratios ("HR 0.82", "odds ratio of 1.4", "NNT 12");
4. "n = 45" and "45 versus 47 participants";
5. mean ± SD;
6. ranges ("45-60 years", "between 45 and 60");
7. fractions and multipliers ("one in five", "a third", "halved", "three-fold");
8. a duration of one written with an article ("for a year", "over a decade");
9. single numbers with a unit, a counted noun, a rate ("per 100,000") or nothing.

A confidence interval is then attached to the point estimate just before it: that Quantity gets
`low`/`high`, and the interval itself is kept as a Quantity of kind "ci" (value = level, e.g. 95).

Number words, unit aliases, counted nouns, qualifiers and ratio names are data in rules/lexicons/.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
from dataclasses import dataclass, replace
from typing import Mapping

from ..rules import Rules
from ..types import Quantity, Span

logger = logging.getLogger(__name__)

# Thousands grouped by commas ("33,947") or, in journal style, by a space ("33 947", BMJ; thin or
# no-break spaces too): a group of three digits after a space joins the number only when no
# further digit or decimal follows. A number starts where a run of digits starts: tried from every
# digit of a long run, each pattern that puts a number before something else read the rest of the
# run from each of them (100 KB of digits took minutes); a match that starts after a digit is an
# identifier's anyway ("H1N1", `_identifier_context`).
_GROUP_SPACE = "\u2009\u202f\u00a0 "
_DIGITS = (r"(?<!\d)(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?"
           rf"|\d{{1,3}}(?:[{_GROUP_SPACE}]\d{{3}})+(?![\d]|[.,]\d)"
           r"|\d++(?:\.\d++)?|\.\d++)")
_MINUS = "-−–"
_DASH = r"(?:\s*[-–—‒]\s*|\s+to\s+)"
_MASK = re.compile(
    # an e-mail address starts only where a run of address characters starts, so a long run with
    # no "@" is scanned once, not from every position (which took seconds on 64 KB)
    r"https?://\S+|www\.\S+|\bdoi:\s*\S+|\b10\.\d{4,}/\S+"
    r"|(?<![\w.+%-])[\w.+%-]+@[\w-]+(?:\.[\w-]+)+|\bNCT\d+|\bISRCTN\d+",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Unit:
    canonical: str
    kind: str
    pint: str


@dataclass(frozen=True, slots=True)
class QuantityFinder:
    """Compiled regular expressions and tables for `find_quantities`; build with `build_finder`."""

    words: Mapping[str, tuple[str, float]]  # number word -> (kind, value)
    units: Mapping[str, _Unit]  # lowercase alias -> unit
    ratios: Mapping[str, str]  # alias (lowercase when case-insensitive) -> canonical
    relative_ratios: frozenset[str]
    qualifiers: Mapping[str, str]
    count_nouns: frozenset[str]
    count_stops: frozenset[str]
    months: frozenset[str]
    relative_cues: frozenset[str]
    absolute_cues: frozenset[str]
    label_before: re.Pattern[str]
    age_before: re.Pattern[str]
    num: re.Pattern[str]
    unit_after: re.Pattern[str]
    ratio_re: re.Pattern[str]
    qualifier_before: re.Pattern[str]
    ci_re: re.Pattern[str]
    bracket_ci_re: re.Pattern[str]
    p_re: re.Pattern[str]
    n_re: re.Pattern[str]
    versus_re: re.Pattern[str]
    sd_re: re.Pattern[str]
    range_re: re.Pattern[str]
    between_re: re.Pattern[str]
    one_in_re: re.Pattern[str]
    fraction_re: re.Pattern[str]
    fold_re: re.Pattern[str]
    multiplier_re: re.Pattern[str]
    per_re: re.Pattern[str]
    article_re: re.Pattern[str]
    money_re: re.Pattern[str]
    currencies: Mapping[str, tuple[str, str]]
    word_re: re.Pattern[str]
    n_equals_noun: str
    max_modifiers: int
    ci_window: int
    relative_window: int
    year_range: tuple[int, int]


def _alt(terms: object, flexible_space: bool = True) -> str:
    """A regex alternation of literal terms, longest first; spaces match any whitespace."""
    out = []
    for term in sorted(set(terms), key=lambda t: (-len(t), t)):  # type: ignore[call-overload]
        pat = re.escape(term)
        if flexible_space:
            pat = pat.replace(r"\ ", r"\s+")
        out.append(pat)
    return "|".join(out)


def build_finder(rules: Rules) -> QuantityFinder:
    """Compile the quantity finder from the rule files.

    Args:
        rules: the loaded rules (number_words.tsv, units.tsv, ratio_terms.tsv, approximations.tsv,
            count_nouns.txt, count_modifier_stops.txt, months.txt, relative_cues.txt, nlp.toml).

    Returns:
        A reusable, immutable finder.
    """
    words = {r["word"].lower(): (r["kind"], float(r["value"])) for r in rules.table("number_words")}
    by_kind: dict[str, list[str]] = {}
    for word, (kind, _) in words.items():
        by_kind.setdefault(kind, []).append(word)
    ones, tens = _alt(by_kind.get("ones", ())), _alt(by_kind.get("tens", ()))
    cardinal = _alt(by_kind.get("cardinal", ()))
    scale = _alt(by_kind.get("scale", ()))
    word_num = rf"(?i:\b(?:(?:{tens})(?:[- ](?:{ones}))?|{cardinal}|{ones})\b)"
    num = rf"(?:[{_MINUS}]?(?:{_DIGITS})|{word_num})(?:\s+(?i:(?:{scale})\b))?"

    units: dict[str, _Unit] = {}
    any_attach, space_attach, letter = [], [], []
    for row in rules.table("units"):
        alias = row["alias"].lower()
        units[alias] = _Unit(row["canonical"], row["kind"], row["pint"])
        if len(alias) == 1 and alias.isalpha():
            letter.append(alias)
        elif row["attach"] == "space":
            space_attach.append(alias)
        else:
            any_attach.append(alias)
    unit_after = re.compile(
        rf"(?i:(?:\s*|-)(?P<a>{_alt(any_attach)})(?![a-z])|\s+(?P<s>{_alt(space_attach)})(?![a-z])"
        rf"|(?:\s|-)(?P<l>{_alt(letter)})(?![a-z\d]))"
    )

    ratios: dict[str, str] = {}
    exact, loose = [], []
    relative_ratios = frozenset(r["canonical"] for r in rules.table("ratio_terms") if r["relative"] == "yes")
    for row in rules.table("ratio_terms"):
        if row["case"] == "exact":
            ratios[row["alias"]] = row["canonical"]
            exact.append(row["alias"])
        else:
            ratios[row["alias"].lower()] = row["canonical"]
            loose.append(row["alias"].lower())
    ratio_name = rf"(?:\b(?:{_alt(exact)})\b|(?i:\b(?:{_alt(loose)})\b))"
    ratio_re = re.compile(
        rf"(?P<name>{ratio_name})(?:\s*[(\[](?:[A-Za-z]+)[)\]])?\s*(?:[:=,]\s*|\s+(?:of|was|is|were)\s+|\s*)"
        rf"(?P<num>[{_MINUS}]?(?:{_DIGITS}))"
    )
    qualifiers = {r["phrase"].lower(): r["qualifier"] for r in rules.table("approximations")}
    qualifier_before = re.compile(rf"(?i:(?:^|(?<=[\s(\[]))(?P<q>{_alt(qualifiers)})\s*)$")

    level = r"(?P<level>\d{2}(?:\.\d+)?)\s*%\s*"
    ci_name = r"(?i:confidence\s+intervals?|credible\s+intervals?|\bCI\b|\bCrI\b|\bUI\b)"
    # a unit may follow the lower bound too: "95% CI, 48% to 66%"
    lo_unit = r"(?:\s*%|\s+(?i:percent|per\s+cent))?"
    interval = (rf"(?P<lo>[{_MINUS}]?(?:{_DIGITS})){lo_unit}\s*(?:[-–—‒]|to|,|;)\s*"
                rf"(?P<hi>[{_MINUS}]?(?:{_DIGITS}))")
    ci_re = re.compile(
        rf"(?:{level})?(?:(?i:bayesian)\s+)?{ci_name}(?:\s*[(\[](?:CI|CrI)[)\]])?\s*(?:[:=,]\s*|\s+(?:of|was|from)\s+|\s*)"
        rf"(?P<open>[(\[])?\s*{interval}\s*(?(open)[)\]])"
    )
    bracket_ci_re = re.compile(
        rf"\[\s*{interval}\s*\]|\(\s*(?P<lo2>[{_MINUS}]?(?:{_DIGITS}))\s*[;,]\s*(?P<hi2>[{_MINUS}]?(?:{_DIGITS}))\s*\)"
        rf"|\(\s*(?P<lo3>[{_MINUS}]?(?:{_DIGITS}))(?:\s*[-–—‒]\s*|\s+to\s+)(?P<hi3>[{_MINUS}]?(?:{_DIGITS}))\s*\)"
    )
    currencies = {r["symbol"].lower(): (r["code"], r["position"]) for r in rules.table("currencies")}
    money_re = re.compile(
        rf"(?i:(?P<cur>{_alt(k for k, v in currencies.items() if v[1] == 'before')}))\s?(?P<num>{num})"
        rf"|(?P<num2>{num})\s+(?i:(?P<cur2>{_alt(k for k, v in currencies.items() if v[1] == 'after')})\b)"
    )
    p_re = re.compile(
        rf"(?<![\w])(?P<p>[Pp])(?:[\s-]*values?)?(?:\s+for\s+\w+)?\s*(?P<op><=|>=|≤|≥|<|>|=|\s+of\s+|\s+was\s+)\s*"
        rf"(?P<num>0?\.\d+|[01](?:\.\d+)?)(?:\s*[x×]\s*10\s*[{_MINUS}]\s*(?P<exp>\d+))?"
    )
    n_re = re.compile(r"(?<![\w])[nN]\s*=\s*(?P<num>\d{1,3}(?:,\d{3})+"
                      rf"|\d{{1,3}}(?:[{_GROUP_SPACE}]\d{{3}})+|\d+)(?![\d.])")
    stops = rules.lexicon("count_modifier_stops")
    count_nouns = rules.lexicon("count_nouns")
    settings = rules.setting("nlp")["quantities"]
    max_mod = int(settings["max_count_modifiers"])
    nouns = _alt(count_nouns)
    modifier = r"(?:(?:[A-Z]\.){2,}|[A-Za-z][\w'’-]*)"  # 'U.S. women', 'older adults'
    versus_re = re.compile(
        rf"(?P<a>{num})\s+(?i:versus|vs\.?|and|or|compared\s+with)\s+(?P<b>{num})"
        rf"(?P<mods>(?:\s+{modifier}){{0,{max_mod}}}?)\s+(?P<noun>(?i:{nouns}))\b"
    )
    sd_re = re.compile(rf"(?P<v>{num})(?P<unit1>[^\S\n]*[^\s\d±(]{{0,8}}?)?\s*(?:±|\+/-|\+-)\s*(?P<sd>{_DIGITS})")
    # "two to three months": number words too, kept only before a unit or a counted noun
    range_re = re.compile(rf"(?P<lo>[{_MINUS}]?(?:{_DIGITS})|{word_num})(?P<sep>\s*[-–—‒]\s*|\s+to\s+|-\s+to\s+)"
                          rf"(?P<hi>[{_MINUS}]?(?:{_DIGITS})|{word_num})")
    between_re = re.compile(rf"(?i:\bbetween\s+)(?P<lo>{num})\s+and\s+(?P<hi>{num})")
    one_in_re = re.compile(rf"(?P<a>{num})\s+(?i:in|out\s+of)\s+(?P<b>{num})(?![\d.,])")
    denominators = _alt(by_kind.get("denominator", ()))
    fraction_re = re.compile(
        rf"(?i:\b(?P<n>an?|{ones}|{_DIGITS})[\s-]+(?P<d>{denominators})\b(?!-)|\bhalf\b(?![\s-]life|-))"
    )
    # "three-fold", and "three times as likely", "four times the risk", "2.5 times higher"
    fold_re = re.compile(rf"(?i:\b(?P<n>{_DIGITS}|{tens}|{ones}|{cardinal})(?:[\s-]?fold\b|\s+times"
                         r"(?=\s+(?:as|the|more|higher|greater|lower|less|likelier|larger|smaller|"
                         r"bigger|faster|slower|over)\b)))")
    multiplier_re = re.compile(rf"(?i:\b(?P<m>{_alt(by_kind.get('multiplier', ()))})\b)")
    per_re = re.compile(rf"(?:\s+{modifier}){{0,2}}?\s+(?i:per)\s+(?P<num>{_DIGITS})(?![\d])")
    article_units = [str(u).lower() for u in settings["article_units"]]
    article_after = [str(w).lower() for w in settings["article_after"]]
    article_re = re.compile(
        rf"(?i:(?<![\w-])(?:{_alt(article_after)})\s+(?P<q>an?\s+(?P<u>{_alt(article_units)}))(?![\w-]))"
    )
    return QuantityFinder(
        words=words, units=units, ratios=ratios, relative_ratios=relative_ratios, qualifiers=qualifiers,
        count_nouns=count_nouns, count_stops=stops, months=rules.lexicon("months"),
        relative_cues=rules.lexicon("relative_cues"), absolute_cues=rules.lexicon("absolute_cues"),
        label_before=re.compile(rf"(?i:(?<![\w-])(?:{_alt(rules.lexicon('number_labels'))})\s*)$"),
        age_before=re.compile(rf"(?i:(?<![\w-])(?:{_alt(rules.lexicon('age_words'))})\s*)$"),
        num=re.compile(num), unit_after=unit_after, ratio_re=ratio_re, qualifier_before=qualifier_before,
        ci_re=ci_re, bracket_ci_re=bracket_ci_re, p_re=p_re, n_re=n_re, versus_re=versus_re, sd_re=sd_re,
        range_re=range_re, between_re=between_re, one_in_re=one_in_re, fraction_re=fraction_re,
        fold_re=fold_re, multiplier_re=multiplier_re, per_re=per_re, article_re=article_re,
        money_re=money_re, currencies=currencies, word_re=re.compile(word_num),
        n_equals_noun=str(settings["n_equals_noun"]), max_modifiers=max_mod,
        ci_window=int(settings["ci_attach_window"]), relative_window=int(settings["relative_window"]),
        year_range=(int(settings["year_min"]), int(settings["year_max"])),
    )


def parse_number(text: str, finder: QuantityFinder) -> float | None:
    """The value of a number written in digits or words ("1,203", "−1.9", "ninety-nine", "1.2 million").

    Args:
        text: the number as written.
        finder: supplies the number-word table.

    Returns:
        The value, or None if `text` is not a number.
    """
    text = text.strip()
    parts = text.split()
    factor = 1.0
    if len(parts) > 1 and parts[-1].lower() in finder.words and finder.words[parts[-1].lower()][0] == "scale":
        factor = finder.words[parts[-1].lower()][1]
        text = " ".join(parts[:-1])
    sign = -1.0 if text[:1] in _MINUS else 1.0
    body = text[1:] if sign < 0 else text
    body = re.sub(rf"[,{_GROUP_SPACE}]", "", body)
    if re.fullmatch(r"(?:\d+(?:\.\d*)?|\.\d+)", body):  # digits only: never "nan", "inf", "1e309"
        value = sign * float(body) * factor
        if math.isfinite(value):
            return value
    low = text.lower()
    if low in finder.words:
        return finder.words[low][1] * factor
    pieces = re.split(r"[- ]", low)
    if len(pieces) == 2 and all(p in finder.words for p in pieces):
        return (finder.words[pieces[0]][1] + finder.words[pieces[1]][1]) * factor
    return None


class _Claims:
    """Which characters an earlier pass has already explained."""

    def __init__(self, size: int) -> None:
        self.used = bytearray(size)

    def free(self, start: int, end: int) -> bool:
        return not any(self.used[start:end])

    def take(self, start: int, end: int) -> None:
        self.used[start:end] = b"\x01" * (end - start)


def _q(text: str, start: int, end: int, **fields: object) -> Quantity:
    return Quantity(span=Span(start, end, text[start:end]), **fields)  # type: ignore[arg-type]


def _unit_at(text: str, pos: int, finder: QuantityFinder) -> tuple[_Unit, int] | None:
    m = finder.unit_after.match(text, pos)
    if not m:
        return None
    alias = (m.group("a") or m.group("s") or m.group("l")).lower()
    alias = re.sub(r"\s+", " ", alias)
    unit = finder.units.get(alias)
    return (unit, m.end()) if unit else None


def _identifier_context(text: str, start: int) -> bool:
    """True when the number at `start` is part of a name or code ("COVID-19", "IL-6", "H1N1")."""
    if start == 0:
        return False
    before = text[start - 1]
    if before.isalnum() or before in "_/.":
        return True
    return before in "-" and start >= 2 and text[start - 2].isalpha()


def find_quantities(text: str, finder: QuantityFinder) -> tuple[Quantity, ...]:
    """Find every quantity in `text`, sorted by position.

    Args:
        text: any text; spans are offsets into it.
        finder: built once by `build_finder`.

    Returns:
        Quantities with exact spans. A point estimate followed by its confidence interval has
        `low`/`high` set, and the interval also appears as its own Quantity of kind "ci".
    """
    claims = _Claims(len(text))
    for m in _MASK.finditer(text):
        claims.take(m.start(), m.end())
    found: list[Quantity] = []

    def add(q: Quantity, start: int | None = None, end: int | None = None) -> None:
        found.append(q)
        claims.take(q.span.start if start is None else start, q.span.end if end is None else end)

    for m in finder.p_re.finditer(text):
        if not claims.free(m.start(), m.end()):
            continue
        value: float | None = float(m.group("num"))
        if m.group("exp"):
            value *= 10 ** -int(m.group("exp"))
        op = m.group("op").strip()
        qualifier = {"≤": "<=", "≥": ">=", "=": None, "of": None, "was": None}.get(op, op)
        add(_q(text, m.start(), m.end(), value=value, unit=None, kind="p_value", qualifier=qualifier))

    cis: list[Quantity] = []
    for m in finder.ratio_re.finditer(text):
        if not claims.free(m.start(), m.end()):
            continue
        name = m.group("name")
        canonical = finder.ratios.get(name) or finder.ratios.get(name.lower()) or name
        add(_q(text, m.start(), m.end(), value=parse_number(m.group("num"), finder), unit=canonical,
               kind="ratio", relative=canonical in finder.relative_ratios, of=canonical))
    ratio_ends = {q.span.end for q in found if q.kind == "ratio"}

    for regex in (finder.ci_re, finder.bracket_ci_re):
        for m in regex.finditer(text):
            if not claims.free(m.start(), m.end()):
                continue
            end = m.end()
            groups = m.groupdict()
            key = next(k for k in ("", "2", "3") if groups.get(f"lo{k}"))
            if key == "3" and not any(0 <= m.start() - e <= 2 for e in ratio_ends):
                continue  # "(45-60)" after a plain number is a range, not an interval
            lo, hi = groups[f"lo{key}"], groups[f"hi{key}"]
            unit_name = None
            hi_end = m.end(f"hi{key}")
            unit = _unit_at(text, hi_end, finder)
            if unit and unit[0].kind != "duration":
                unit_name = unit[0].canonical
                end = max(end, unit[1])
                if text[end:end + 1] == ")" and text[m.start():end].count("(") > text[m.start():end].count(")"):
                    end += 1
            if regex is finder.bracket_ci_re:
                before = text[max(0, m.start() - 3):m.start()]
                if not re.search(r"[\d%a-zA-Z]\s*$", before):
                    continue
            level = m.groupdict().get("level")
            ci = _q(text, m.start(), end, value=float(level) if level else None, unit=unit_name,
                    kind="ci", low=parse_number(lo, finder), high=parse_number(hi, finder))
            add(ci)
            cis.append(ci)

    for m in finder.money_re.finditer(text):
        if not claims.free(m.start(), m.end()):
            continue
        cur = (m.group("cur") or m.group("cur2")).lower()
        add(_q(text, m.start(), m.end(), value=parse_number(m.group("num") or m.group("num2"), finder),
               unit=finder.currencies[cur][0], kind="money"))

    for m in finder.n_re.finditer(text):
        if claims.free(m.start(), m.end()):
            add(_q(text, m.start(), m.end(), value=parse_number(m.group("num"), finder), unit=None,
                   kind="count", of=finder.n_equals_noun))

    for m in finder.versus_re.finditer(text):
        if not claims.free(m.start(), m.end()) or _identifier_context(text, m.start()):
            continue
        mods = m.group("mods").split()
        if any(w.lower() in finder.count_stops or finder.word_re.fullmatch(w) for w in mods):
            continue
        noun = m.group("noun").lower()
        add(_q(text, m.start("a"), m.end("a"), value=parse_number(m.group("a"), finder), unit=None,
               kind="count", of=noun))
        add(_q(text, m.start("b"), m.end(), value=parse_number(m.group("b"), finder), unit=None,
               kind="count", of=noun))

    for m in finder.sd_re.finditer(text):
        if not claims.free(m.start(), m.end()) or _identifier_context(text, m.start()):
            continue
        value = parse_number(m.group("v"), finder)
        unit = _unit_at(text, m.end("v"), finder)
        end = m.end()
        after = _unit_at(text, end, finder)
        unit_name = unit[0].canonical if unit else (after[0].canonical if after else None)
        kind = (unit or after or (None,))[0]
        if after:
            end = after[1]
        add(_q(text, m.start(), end, value=value, unit=unit_name,
               kind=kind.kind if kind else "number"))
        add(_q(text, m.start("sd"), m.end("sd"), value=parse_number(m.group("sd"), finder),
               unit=unit_name, kind="number", of="sd"), m.start(), end)

    for regex in (finder.between_re, finder.range_re):
        for m in regex.finditer(text):
            if not claims.free(m.start(), m.end()) or _identifier_context(text, m.start()):
                continue
            if finder.label_before.search(text[max(0, m.start() - 16):m.start()]):
                continue
            lo, hi = parse_number(m.group("lo"), finder), parse_number(m.group("hi"), finder)
            if lo is None or hi is None:
                continue
            sep = m.groupdict().get("sep") or ""
            if lo > hi and "to" not in sep:
                continue  # "2019-18"? a code, not a range
            if re.search(r"(?i:\bfrom\s+)$", text[max(0, m.start() - 6):m.start()]):
                continue  # "fell from 140 to 135": a change, not a range
            if lo > hi and re.search(r"(?i:\bfrom\b[^,;.]{0,30})$", text[max(0, m.start() - 40):m.start()]):
                continue  # "down from a median of 92 to 30 mmol/L": a change, read as two numbers
            if _dated(text, m.start(), m.end(), finder):
                continue  # "30 May 2020 to 1 June 2021": two dates, not a range
            unit = _unit_at(text, m.end(), finder)
            if regex is finder.range_re and unit is None:
                # "1990-2000" or "0.4-3.7" with no unit is kept; "5-10" before a noun is a count range
                noun = _counted_noun(text, m.end(), finder)
                if noun is None and not (m.group("lo")[-1:].isdigit() and m.group("hi")[-1:].isdigit()):
                    continue  # "one-to-one", "two to three of them": words need a unit or a noun
                end = noun[1] if noun else m.end()
                add(_q(text, m.start(), end, value=None, unit=None,
                       kind="count" if noun else "number", low=lo, high=hi, of=noun[0] if noun else None))
                continue
            end = unit[1] if unit else m.end()
            add(_q(text, m.start(), end, value=None, unit=unit[0].canonical if unit else None,
                   kind=unit[0].kind if unit else "number", low=lo, high=hi))

    for m in finder.one_in_re.finditer(text):
        if not claims.free(m.start(), m.end()) or _identifier_context(text, m.start()):
            continue
        a, b = parse_number(m.group("a"), finder), parse_number(m.group("b"), finder)
        if a is None or b is None or not (0 < a < b) or a != int(a) or b != int(b):
            continue
        add(_q(text, m.start(), m.end(), value=round(100.0 * a / b, 2), unit="%", kind="percent"))

    for m in finder.fraction_re.finditer(text):
        if not claims.free(m.start(), m.end()):
            continue
        denom_word = (m.group("d") or "half").lower()
        denom = finder.words[denom_word][1] if denom_word in finder.words else 2.0
        numer_word = (m.group("n") or "one").lower()
        numer = 1.0 if numer_word in ("a", "an") else parse_number(numer_word, finder)
        if numer is None:
            continue
        if re.match(r"\s+(?:a|an|the)\s", text[m.end():m.end() + 5], re.I):
            continue  # "half a tablespoon", "half the optimal level": a portion of a thing, no share
        add(_q(text, m.start(), m.end(), value=round(100.0 * numer / denom, 2), unit="%",
               kind="percent"))

    for regex in (finder.fold_re, finder.multiplier_re):
        for m in regex.finditer(text):
            if not claims.free(m.start(), m.end()):
                continue
            if regex is finder.fold_re:
                value = parse_number(m.group("n"), finder)
            else:
                if re.match(r"[\s-]*(?:blind|masked|dummy|check|digit|bond|helix|edged)",
                            text[m.end():m.end() + 12], re.I):
                    continue  # "double-blind", "double-dummy": design words, not a doubling
                value = finder.words[m.group("m").lower()][1]
            add(_q(text, m.start(), m.end(), value=value, unit="x", kind="ratio", relative=True))

    for m in finder.article_re.finditer(text):
        if not claims.free(m.start("q"), m.end("q")):
            continue
        unit_of = finder.units.get(m.group("u").lower())
        clause = re.split(r"[.;!?]\s", text[max(0, m.start() - 80):m.start()])[-1]
        if re.search(r"(?i:\b(?:for\s+every|per)\s+[\d,]+)", clause):
            continue  # "for every 10,000 women taking it for a year": person-time, a rate's denominator
        if unit_of is not None:
            add(_q(text, m.start("q"), m.end("q"), value=1.0, unit=unit_of.canonical, kind=unit_of.kind))

    for m in finder.num.finditer(text):
        start = m.start()
        end = m.end()
        if not claims.free(start, end) or _identifier_context(text, start):
            continue
        if finder.label_before.search(text[max(0, start - 16):start]):
            continue  # "type 2 diabetes", "Figure 2", "phase 3"
        if re.search(r"(?i:\bper\s+)$", text[max(0, start - 6):start]):
            continue  # "per 1,000 person-years": the denominator of a rate stated elsewhere
        raw = m.group(0)
        if text[end:end + 1].isalpha() and not _unit_at(text, end, finder):
            continue  # "3D", "5th"
        value = parse_number(raw, finder)
        if value is None:
            continue
        unit = _unit_at(text, end, finder)
        if unit:
            unit_kind = unit[0].kind
            relative = None
            if unit[0].canonical == "percentage points":
                relative = False
            elif unit_kind == "percent":  # "50% lower risk" is relative; "12% of patients" absolute
                relative = bool(_relative_after(text, unit[1], finder))
            add(_q(text, start, unit[1], value=value, unit=unit[0].canonical, kind=unit_kind,
                   relative=relative, of=unit[0].canonical if unit_kind == "measure" else None))
            continue
        noun = _counted_noun(text, end, finder)
        if noun:
            per = finder.per_re.match(text, noun[1])
            if per:
                add(_q(text, start, per.end(), value=value, kind="measure",
                       unit=f"per {_thousands(per.group('num'))}", of=noun[0]))
            else:
                add(_q(text, start, noun[1], value=value, unit=None, kind="count", of=noun[0]))
            continue
        per = finder.per_re.match(text, end)
        between = per.group(0).split()[:-2] if per else []
        if per and (not between or (len(between) == 1 and _plural(between[0].lower()))):
            # "12.5 per 100,000", "3.2 events per 1,000 participant-years"
            add(_q(text, start, per.end(), value=value, unit=f"per {_thousands(per.group('num'))}",
                   kind="measure", of=between[0].lower() if between else None))
            continue
        following = re.match(r"\s+([A-Za-z]+)", text[end:end + 20])
        if following and following.group(1).lower() in finder.months:
            continue
        if re.fullmatch(r"\d{4}", raw) and finder.year_range[0] <= value <= finder.year_range[1]:
            continue
        if re.match(r"[A-Za-z]", raw) and value < 2:
            continue  # "one of the", "only one": too common to be a claim's number
        before = text[max(0, start - 12):start].lower()
        if re.search(r"(?:january|february|march|april|june|july|august|september|october|november|"
                     r"december)\s*$", before):
            continue
        add(_q(text, start, end, value=value, unit=None, kind="number"))

    found = [_aged(text, _qualified(text, q, finder), finder) for q in found]
    found = _attach_cis(text, found, cis, finder)
    return tuple(sorted(found, key=lambda q: (q.span.start, q.span.end)))


def _thousands(raw: str) -> str:
    value = float(raw.replace(",", ""))
    return f"{int(value):,}" if value == int(value) else raw


_PERSON_TIME = re.compile(r"(?i:[-\s]+(?:years?|months?|weeks?|days?)\b)")


def _plural(word: str) -> bool:
    """A word that looks like a plural noun ('drugs', 'statins'), not 'diabetes'-like singulars."""
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "'s", "’s"))


def _counted_noun(text: str, pos: int, finder: QuantityFinder) -> tuple[str, int] | None:
    """The counted noun after a number at `pos`, allowing a few modifiers: '99 fibromyalgia patients'.

    A plural noun among the modifiers is what the number counts unless a counted noun follows it
    at once ('120 diabetes patients'): 'two heart drugs helped people' counts drugs, not people.
    A counted noun followed by 'years' is person-time ('1,000 participant years'), not a count.
    """
    rest = text[pos:pos + 80]
    words = list(re.finditer(r"\s+((?:[A-Z]\.){2,}|[A-Za-z][\w'’-]*)", rest))[: finder.max_modifiers + 1]
    at = 0
    plural: tuple[str, int] | None = None
    for i, w in enumerate(words):
        if w.start() != at:
            return None
        at = w.end()
        low = w.group(1).lower()
        if low in finder.count_nouns:
            if _PERSON_TIME.match(rest, w.end()):
                return None
            return plural or (low, pos + w.end())
        if low in finder.count_stops or low in finder.units or finder.word_re.fullmatch(low):
            return None
        following = words[i + 1].group(1).lower() if i + 1 < len(words) else ""
        if plural is None and _plural(low) and following not in finder.count_nouns:
            plural = (low, pos + w.end())
    return None


def _dated(text: str, start: int, end: int, finder: QuantityFinder) -> bool:
    """A month name just before `start` or just after `end`: the numbers belong to dates."""
    before = re.search(r"([A-Za-z]+)\.?\s*$", text[max(0, start - 12):start])
    after = re.match(r"\s+([A-Za-z]+)", text[end:end + 12])
    return any(m is not None and m.group(1).lower() in finder.months for m in (before, after))


def _relative_after(text: str, pos: int, finder: QuantityFinder) -> bool | None:
    window = re.split(r"[.;]\s", text[pos:pos + finder.relative_window])[0].lower()
    if any(re.search(rf"\b{re.escape(cue)}\b", window) for cue in finder.absolute_cues):
        return False
    words = set(re.findall(r"[a-z]+", window))
    return True if words & finder.relative_cues else None


def _aged(text: str, q: Quantity, finder: QuantityFinder) -> Quantity:
    """'aged 40 to 69', 'ages 18-35 years': an age in years, not a duration or a bare number."""
    if q.kind not in ("number", "duration") or q.unit not in (None, "year"):
        return q
    # "50- to 71-year-olds", "a 64-year-old man", "62 years old", "60 years and older", "65 years of age"
    old = q.unit == "year" and re.match(r"(?:-|\s+)olds?\b|\s+(?:and|or)\s+(?:older|over|above)\b|"
                                        r"\s+of\s+age\b", text[q.span.end:q.span.end + 14])
    if not old and not finder.age_before.search(text[max(0, q.span.start - 16):q.span.start]):
        return q
    return replace(q, kind="measure", unit="year", of="age")


def _qualified(text: str, q: Quantity, finder: QuantityFinder) -> Quantity:
    if q.qualifier or q.kind in ("p_value", "ci"):
        return q
    m = finder.qualifier_before.search(text[max(0, q.span.start - 24):q.span.start])
    if not m:
        if q.kind == "percent" and not any(ch.isdigit() for ch in q.span.text):
            return replace(q, qualifier="~")  # a fraction word is a rounded share: "a quarter", 24%
        return q
    return replace(q, qualifier=finder.qualifiers.get(re.sub(r"\s+", " ", m.group("q").lower())))


def _attach_cis(text: str, found: list[Quantity], cis: list[Quantity],
                finder: QuantityFinder) -> list[Quantity]:
    """Give each CI's point estimate (the nearest quantity before it, same sentence) its low/high.

    Only the quantities that end within `ci_window` characters before an interval are looked at
    (found by their ends, sorted once), not all of them for each interval: a table of 5,000
    intervals made this quadratic.
    """
    out = list(found)
    by_end = sorted((q.span.end, i) for i, q in enumerate(out))
    ends = [end for end, _ in by_end]
    where = {id(q): i for i, q in enumerate(out) if q.kind == "ci"}
    for ci in cis:
        best = None
        lo = bisect.bisect_left(ends, ci.span.start - finder.ci_window)
        hi = bisect.bisect_right(ends, ci.span.start)
        for _, i in by_end[lo:hi]:  # by end, then by place in `out`: the last wins, as before
            q = out[i]
            if q.kind in ("ci", "p_value", "count", "duration") or q.of == "sd" or q.low is not None:
                continue
            gap = text[q.span.end:ci.span.start]
            if re.search(r"[.!?]\s+[A-Z]", gap) or "\n" in gap:
                continue
            if best is None or q.span.end > out[best].span.end:
                best = i
        if best is None:
            continue
        point = out[best]
        unit = point.unit or ci.unit
        out[best] = replace(point, low=ci.low, high=ci.high, unit=unit)
        if ci.unit is None and unit:
            at = where.get(id(ci), None)
            at = out.index(ci) if at is None or out[at] is not ci else at
            out[at] = replace(ci, unit=unit)
    return out


@functools.lru_cache(maxsize=1)
def _registry():  # type: ignore[no-untyped-def]
    import pint  # imported here: building the registry costs ~0.4 s, paid only when converting

    return pint.UnitRegistry()


def pint_names(rules: Rules) -> dict[str, str | None]:
    """Canonical unit spelling -> its pint expression, from the `pint` column of units.tsv.

    An empty cell means "not convertible" (IU, percentage points, servings): None.
    """
    return {row["canonical"]: (row["pint"] or None) for row in rules.table("units")}


def convert(value: float, from_unit: str, to_unit: str,
            names: Mapping[str, str | None] | None = None) -> float | None:
    """Convert `value` between units with pint ("kPa" -> "mmHg", "lb" -> "kg", "week" -> "day").

    Args:
        value: the number in `from_unit`.
        from_unit: a canonical unit spelling as Quantity.unit holds it, or any pint unit name.
        to_unit: the unit wanted.
        names: canonical spelling -> pint expression (`pint_names(rules)`); units not in it are
            read as pint names themselves.

    Returns:
        The converted value, or None when the units are unknown or not commensurable
        (mg/dL -> mmol/L needs a molar mass and is not converted).
    """
    if from_unit == to_unit:
        return value
    table = names or {}
    expressions = [table.get(unit, unit) for unit in (from_unit, to_unit)]
    if None in expressions or "" in expressions:
        return None
    registry = _registry()
    try:
        # expressions, not bare names, so a row can say "10 * year" for a decade
        ratio = (value * registry.parse_expression(expressions[0])) / \
            registry.parse_expression(expressions[1])
        return float(ratio.to("dimensionless").magnitude)
    except Exception:  # pint raises several unrelated types for unknown or incompatible units
        logger.debug("convert: cannot convert %s to %s", from_unit, to_unit)
        return None
