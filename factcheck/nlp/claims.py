"""Doc -> claims: one Claim per sentence (or headline line) that says something.

A sentence whose effect sizes go in opposite directions ("a rise of 1.2 kPa, whereas the placebo
group may have seen a drop of 0.8 kPa") is split at the contrast word into one claim per clause,
so each number keeps its own direction and hedge.

Every slot is filled from rule matches (`doc.spans["factcheck"]`, see components.py), the
abbreviation detector and the quantity finder; the word lists and patterns live in rules/.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from spacy.tokens import Doc

from ..rules import Rules
from ..types import Claim, Entity, Origin, Quantity, Span
from .components import ABBREVIATION_DRUG, QUANTITIES_KEY, SPANS_KEY

logger = logging.getLogger(__name__)

_EFFECT_KINDS = frozenset({"measure", "percent", "ratio", "number", "money"})
_CAUSAL_ORDER = ("no_relationship", "correlational", "conditional_causal", "direct_causal")
_QUOTED = re.compile(r"[“\"][^”\"]{8,}[”\"]")
_SPLIT_WORDS = frozenset({"whereas", "while", "but", "and", ";", "although", "compared"})


@dataclass(frozen=True, slots=True)
class _Match:
    start: int  # character offsets into the doc text
    end: int
    tok_start: int
    tok_end: int
    label: str
    rule: str
    attr: str  # the rule's attribute (strength/direction/significance) or table value
    text: str
    cue_start: int | None = None  # where the words that carry the cue begin (a rule's `cue_from`)


def _matches(doc: Doc, rules: Rules) -> list[_Match]:
    attrs = {p.id: p.attrs for p in rules.patterns}
    out = []
    for span in doc.spans.get(SPANS_KEY, ()):
        rule = span.id_
        if rule == ABBREVIATION_DRUG:
            continue  # _Context reads abbreviations itself (ABBREV entities, drug counts)
        attr, cue_start = "", None
        if rule in attrs:
            a = attrs[rule]
            attr = str(a.get("strength") or a.get("direction") or a.get("significance") or "")
            if "cue_from" in a:  # the pattern's first tokens are context ("pills | raise")
                cue_start = doc[min(span.start + int(a["cue_from"]), span.end - 1)].idx
        elif ":" in rule:
            attr = rule.split(":", 1)[1]
        elif span.label_ == "DRUG":
            attr = span.kb_id_
        out.append(_Match(span.start_char, span.end_char, span.start, span.end, span.label_,
                          rule or "lexicon:drug-dictionary", attr, span.text, cue_start))
    return sorted(out, key=lambda m: (m.start, -m.end))


def _abbreviations(doc: Doc, matches: list[_Match]) -> dict[str, tuple[str, frozenset[str]]]:
    """Short form -> (long form lowercased, labels the long form carries: DRUG, OUTCOME ...)."""
    out: dict[str, tuple[str, frozenset[str]]] = {}
    for short in getattr(doc._, "abbreviations", ()):
        long_form = short._.long_form
        if long_form is None or short.text in out:
            continue
        if any(c.isdigit() for c in long_form.text) or not any(c.isupper() for c in short.text):
            continue
        labels = frozenset(m.label for m in matches
                           if m.start >= long_form.start_char and m.end <= long_form.end_char
                           and m.label in ("DRUG", "OUTCOME", "CONDITION", "COMPARATOR"))
        out[short.text] = (long_form.text.lower(), labels)
    return out


def _segments(doc: Doc) -> Iterable[tuple[int, int]]:
    """Sentence character ranges, also cut at line breaks (headlines have no full stop)."""
    text = doc.text
    for sent in doc.sents:
        start = sent.start_char
        for piece in re.split(r"(\n+)", text[sent.start_char:sent.end_char]):
            end = start + len(piece)
            if piece and not piece.startswith("\n"):
                lstrip = len(piece) - len(piece.lstrip())
                rstrip = len(piece.rstrip())
                if rstrip > lstrip:
                    yield start + lstrip, start + rstrip
            start = end


def extract_claims(doc: Doc, origin: Origin, sections: Sequence[tuple[int, int, str]] = (),
                   rules: Rules | None = None) -> tuple[Claim, ...]:
    """Turn a processed Doc into claims.

    Args:
        doc: the output of the Analyzer's pipeline (needs its rule spans and quantities).
        origin: "article" or "abstract".
        sections: (start, end, label) character ranges; the label of the range holding a
            sentence becomes `Claim.section` and, through rules/nlp.toml, may set its kind.
        rules: the loaded rules (for lexicons, attributes and thresholds).

    Returns:
        Claims in text order; sentences of boilerplate or with too few words are skipped.
    """
    if rules is None:
        from ..rules import load_rules

        rules = load_rules()
    ctx = _Context(doc, rules, tuple(sorted(sections)))
    out: list[Claim] = []
    for start, end in _segments(doc):
        if ctx.skip(start, end):
            continue
        for c_start, c_end in ctx.clauses(start, end):
            out.append(ctx.claim(c_start, c_end, origin))
    return tuple(out)


class _Context:
    """Per-document lookups shared by the claims of one Doc."""

    def __init__(self, doc: Doc, rules: Rules, sections: tuple[tuple[int, int, str], ...]) -> None:
        self.doc = doc
        self.text = doc.text
        self.rules = rules
        self.sections = sections
        self.matches = _matches(doc, rules)
        self.abbrevs = _abbreviations(doc, self.matches)
        self.quantities: tuple[Quantity, ...] = doc.user_data.get(QUANTITIES_KEY, ())
        nlp_settings = rules.setting("nlp")
        self.alpha = float(nlp_settings["significance"]["alpha"])
        claims_settings = nlp_settings["claims"]
        self.neg_window = int(claims_settings["negation_window"])
        self.hedge_window = int(claims_settings["hedge_window"])
        self.min_words = int(claims_settings["min_words"])
        self.partial = re.compile(r"\b(?:%s)\W*$" % "|".join(
            re.escape(w) for w in claims_settings["partial_qualifiers"]), re.I)
        self.partial_tags = frozenset(claims_settings["partial_tags"])
        self.section_kinds = {k.upper(): v for k, v in claims_settings["section_kinds"].items()}
        self.boilerplate = tuple(rules.lexicon("boilerplate"))
        self.speech = rules.lexicon("speech_verbs")
        self.negations = frozenset(t for t in rules.lexicon("negations") if " " not in t)
        self.comparators = rules.lexicon("comparators")
        self.count_nouns = rules.lexicon("count_nouns")
        self.long_forms = frozenset(long for long, _ in self.abbrevs.values())
        self.drug_counts: dict[str, int] = {}
        for m in self.matches:
            if m.label == "DRUG":
                norm = m.text.lower() if m.rule == "lexicon:drugs" else (m.attr or m.text.lower())
                self.drug_counts[norm] = self.drug_counts.get(norm, 0) + 1
        for short, (long_form, labels) in self.abbrevs.items():
            if "DRUG" in labels:
                self.drug_counts[long_form] = self.drug_counts.get(long_form, 0) + self.text.count(short)

    # -- selection -------------------------------------------------------------------------
    def skip(self, start: int, end: int) -> bool:
        piece = self.text[start:end]
        low = piece.lower()
        if any(b in low for b in self.boilerplate):
            return True
        words = re.findall(r"[A-Za-z]{2,}", piece)
        if len(words) < self.min_words:
            return True
        if len(re.findall(r"\b[A-Z]\.(?:\s|,)", piece)) >= 4 and re.search(r"\((?:19|20)\d\d\)", piece):
            return True  # a reference list entry: "Bruun, K. D., Christensen, R., ... (2025)."
        return bool(re.fullmatch(r"\s*(?:https?://|doi:|www\.)\S+\s*", piece))

    def in_range(self, start: int, end: int) -> list[_Match]:
        return [m for m in self.matches if m.start >= start and m.end <= end]

    def quantities_in(self, start: int, end: int) -> tuple[Quantity, ...]:
        return tuple(q for q in self.quantities if q.span.start >= start and q.span.end <= end)

    # -- clause splitting --------------------------------------------------------------------
    def _directed_quantities(self, start: int, end: int) -> list[tuple[Quantity, _Match]]:
        words = [m for m in self.in_range(start, end)
                 if m.label == "DIRECTION_WORD" and not self._negated(m, start)]
        pairs = []
        for q in self.quantities_in(start, end):
            if q.kind not in _EFFECT_KINDS or q.of == "sd":
                continue
            before = [w for w in words if w.end <= q.span.start and q.span.start - w.end <= 40]
            if before:
                pairs.append((q, before[-1]))
        return pairs

    def clauses(self, start: int, end: int) -> list[tuple[int, int]]:
        pairs = self._directed_quantities(start, end)
        cuts = []
        for (q1, w1), (_q2, w2) in zip(pairs, pairs[1:]):
            if w1.attr == w2.attr or w2.start <= q1.span.end:
                continue
            after_q1 = max([q1.span.end] + [c.span.end for c in self.quantities_in(q1.span.end, w2.start)
                                             if c.kind == "ci"])
            window = self.doc.char_span(after_q1, w2.start, alignment_mode="expand")
            tokens = [t for t in window or () if after_q1 <= t.idx < w2.start]
            split = [t for t in tokens if t.lower_ in _SPLIT_WORDS]
            if split:
                cuts.append(split[-1].idx)
        if not cuts:
            return [(start, end)]
        out, pos = [], start
        for cut in cuts:
            piece_end = len(self.text[pos:cut].rstrip()) + pos
            out.append((pos, piece_end))
            pos = cut
        out.append((pos, end))
        return out

    # -- slots ------------------------------------------------------------------------------
    def _negated(self, m: _Match, floor: int) -> bool:
        first = max(m.tok_start - self.neg_window, 0)
        for token in self.doc[first:m.tok_start]:
            if token.idx >= floor and token.lower_ in self.negations:
                return True
        return False

    def _entities(self, start: int, end: int, found: list[_Match]) -> list[Entity]:
        ents: list[Entity] = []
        labels = {"DRUG", "OUTCOME", "POPULATION", "CONDITION", "DESIGN"}
        kept = [m for m in found if m.label in labels]
        kept = [m for m in kept if not any(o is not m and o.label == m.label and o.start <= m.start
                                           and o.end >= m.end and (o.end - o.start) > (m.end - m.start)
                                           for o in kept)]
        seen = set()
        for m in kept:
            if (m.label, m.start, m.end) in seen:
                continue
            seen.add((m.label, m.start, m.end))
            norm = m.attr if m.label == "DRUG" and m.attr else m.text.lower()
            if m.label == "DRUG" and m.rule == "lexicon:drugs":
                norm = m.text.lower()
            ents.append(Entity(m.label, Span(m.start, m.end, m.text), norm))
        for token in self.doc.char_span(start, end, alignment_mode="expand") or ():
            if token.text in self.abbrevs:
                long_form, long_labels = self.abbrevs[token.text]
                span = Span(token.idx, token.idx + len(token.text), token.text)
                ents.append(Entity("ABBREV", span, long_form))
                for label in sorted(long_labels & {"DRUG", "OUTCOME", "CONDITION"}):
                    ents.append(Entity(label, span, long_form))
        return sorted(ents, key=lambda e: (e.span.start, e.label))

    def _population(self, start: int, end: int, found: list[_Match],
                    quantities: Sequence[Quantity]) -> tuple[str | None, tuple[str, ...]]:
        pops = [m for m in found if m.label == "POPULATION"]
        phrase = None
        lo = hi = None
        # people, not things: "two heart drugs" is a count but not the population
        counts = [q for q in quantities if q.kind == "count" and q.of and q.of.split()[-1] in self.count_nouns]
        if counts:
            q = counts[-1] if len(counts) > 1 and counts[0].span.text.strip().isdigit() else counts[0]
            lo, hi = q.span.start, q.span.end
        elif pops:
            lo, hi = pops[0].start, pops[0].end
        if lo is not None and hi is not None:
            conds = [m for m in found if m.label == "CONDITION" and m.start >= hi]
            tail = re.match(r"\s+(?:with|who\s+had|who\s+have|living\s+with)\s+", self.text[hi:end])
            if tail and conds and conds[0].start == hi + tail.end():
                hi = conds[0].end
            phrase = self.text[lo:hi]
            scoped = [m for m in pops if m.start >= lo and m.end <= hi] or pops
        else:
            scoped = pops
        tags: list[str] = []
        for m in scoped:
            # "predominantly male participants (98%)": most, not all, so no restriction
            partial = self.partial.search(self.text[max(start, m.start - 30):m.start])
            for tag in m.attr.split():
                if tag not in tags and not (partial and tag in self.partial_tags):
                    tags.append(tag)
        return phrase, tuple(tags)

    def _direction(self, start: int, found: list[_Match], quantities: Sequence[Quantity]) -> str | None:
        rule_dirs = [m.attr for m in found if m.label == "DIRECTION" and m.attr]
        if rule_dirs:
            return rule_dirs[0]
        words = [m for m in found if m.label == "DIRECTION_WORD"]
        if not words:
            return None
        effects = sorted((q for q in quantities if q.kind in _EFFECT_KINDS and q.of != "sd"),
                         key=lambda q: q.kind == "number")  # a bare number is the weakest anchor
        if effects:  # the word that goes with the first effect size: "20% less likely", "a rise of 1.2"
            q = effects[0]

            def distance(m: _Match) -> int:
                return q.span.start - m.end if m.end <= q.span.start else m.start - q.span.end

            near = [m for m in words if distance(m) <= 30]
            if near:
                words = [min(near, key=distance)]
        m = words[0]
        return "no_change" if self._negated(m, start) else m.attr

    def _significance(self, found: list[_Match], quantities: Sequence[Quantity]) -> str | None:
        sig = [m for m in found if m.label == "SIGNIFICANCE"]
        negs = [m for m in sig if m.attr == "not_significant"]
        sig = [m for m in sig if m.attr == "not_significant"
               or not any(n.start <= m.start and n.end >= m.end for n in negs)]
        if sig:
            first = sig[0]
            if first.attr == "significant" and self._negated_before(first.start):
                return "not_significant"  # "did not result in a statistically significant ..."
            return first.attr
        for q in quantities:
            if q.kind != "p_value" or q.value is None:
                continue
            if q.qualifier in ("<", "<=") and q.value <= self.alpha:
                return "significant"
            if q.qualifier in (None, "=") and q.value < self.alpha:
                return "significant"
            if q.qualifier in (None, "=", ">", ">=") and q.value >= self.alpha:
                return "not_significant"
        return None

    _NEGATED = re.compile(r"\b(?:not|no|never|without|nor|neither|failed\s+to|did\s+not|"
                          r"didn't|was\s+not|were\s+not)\b[^,;:.]{0,45}$", re.I)

    def _negated_before(self, start: int) -> bool:
        """A negation cue earlier in the same clause, within a few words of `start`."""
        before = self.text[max(0, start - 60):start]
        before = re.split(r"[,;:]|\b(?:but|whereas|although|however)\b", before)[-1]
        return bool(self._NEGATED.search(before))

    def _hedges(self, found: list[_Match]) -> list[_Match]:
        out = []
        for m in found:
            if m.label != "HEDGE":
                continue
            if m.text.lower() == "may" and re.search(r"\d\s*$", self.text[max(0, m.start - 4):m.start]):
                continue  # "30 May 2020"
            if any(o is not m and o.label == "HEDGE" and o.start <= m.start and o.end >= m.end
                   and (o.end - o.start) > (m.end - m.start) for o in found):
                continue
            if any(o.label == "HEDGE_EXCEPTION" and o.start <= m.start and o.end >= m.end for o in found):
                continue  # "less likely to die" compares; it does not hedge
            out.append(m)
        return out

    def _open_question(self, found: list[_Match], end: int) -> Span | None:
        """The part of the claim that asks rather than claims: "further studies are needed to
        determine whether X reduces Y", from the first such cue up to the end of its
        comma-delimited phrase ("In the first study to investigate abuse, scientists found that
        exposure was associated with ..." asserts again after the comma)."""
        open_from = min((m.start for m in found if m.label == "UNASSERTED"), default=None)
        if open_from is None:
            return None
        comma = self.text.find(", ", open_from, end)
        open_to = comma if comma >= 0 else end
        return Span(open_from, open_to, self.text[open_from:open_to])

    def _causal(self, found: list[_Match], hedges: list[_Match]) -> tuple[str | None, Span | None]:
        """The claim's causal strength and the words that give it (the first cue of that strength)."""
        strengths: dict[str, _Match] = {}
        open_question = self._open_question(found, len(self.text))
        for m in found:
            if m.label != "CAUSAL" or (open_question and open_question.start <= m.start < open_question.end):
                continue
            if m.start > 0 and self.text[m.start - 1] == "-":
                continue  # half of a compound adjective: 'violence-related injuries', 'drug-induced'
            strength = m.attr
            # a hedge just before the cue, or one that ends inside it ("could be | be efficacious")
            if strength == "direct_causal" and any(
                    h.tok_start < m.tok_start and m.tok_start - h.tok_end < self.hedge_window for h in hedges):
                strength = "conditional_causal"
            strengths.setdefault(strength, m)
        best = next((s for s in _CAUSAL_ORDER if s in strengths), None)
        if best is None:
            return None, None
        cue = strengths[best]
        start = cue.start if cue.cue_start is None else cue.cue_start
        return best, Span(start, cue.end, self.text[start:cue.end])

    def _kind(self, start: int, end: int, section: str | None, found: list[_Match],
              quantities: Sequence[Quantity], direction: str | None, significance: str | None) -> str:
        piece = self.text[start:end]
        if _QUOTED.search(piece) and (
                set(re.findall(r"[a-z]+", piece.lower())) & self.speech or piece.lstrip()[:1] in "“\""):
            return "quote"
        if section and section.upper() in self.section_kinds:
            return str(self.section_kinds[section.upper()])
        labels = {m.label for m in found}
        if "AIM" in labels:
            return "method"
        if "CONCLUSION" in labels:
            return "conclusion"
        effect = any(q.kind in _EFFECT_KINDS | {"p_value", "ci"} for q in quantities)
        if "RESULT_CUE" in labels:
            return "result"  # "The study found ...": credited to the study, whatever follows
        if "BACKGROUND" in labels and not effect and not significance:
            return "background"
        if direction or significance or (effect and "METHOD" not in labels):
            return "result"
        if "METHOD" in labels or "DESIGN" in labels or any(q.kind == "count" for q in quantities):
            return "method"
        if "BACKGROUND" in labels:
            return "background"
        return "other"

    def _section(self, start: int) -> str | None:
        for s_start, s_end, label in self.sections:
            if s_start <= start < s_end:
                return label
        return None

    def claim(self, start: int, end: int, origin: Origin) -> Claim:
        found = self.in_range(start, end)
        quantities = self.quantities_in(start, end)
        entities = self._entities(start, end, found)
        comparator = self._comparator(start, end, found, entities)
        drugs = [e for e in entities if e.label == "DRUG" and e.norm != comparator
                 and e.norm not in self.comparators]
        subject = None
        if drugs:  # the document's main intervention first (named with an abbreviation, most named)
            best = max(drugs, key=lambda e: (e.norm in self.long_forms, self.drug_counts.get(e.norm, 0),
                                             -e.span.start))
            subject = best.norm
        direction = self._direction(start, found, quantities)
        significance = self._significance(found, quantities)
        hedges = self._hedges(found)
        population, tags = self._population(start, end, found, quantities)
        design = []
        for m in found:
            if m.label == "DESIGN" and m.attr not in design:
                design.append(m.attr)
        section = self._section(start)
        kind = self._kind(start, end, section, found, quantities, direction, significance)
        strength, cue = self._causal(found, hedges)
        open_question = self._open_question(found, end)
        rule_ids = []
        for m in found:
            if m.rule not in rule_ids:
                rule_ids.append(m.rule)
        return Claim(
            origin=origin, span=Span(start, end, self.text[start:end]), kind=kind,  # type: ignore[arg-type]
            section=section, subject=subject, comparator=comparator,
            outcome=self._outcome(entities, found, quantities), population=population,
            population_tags=tags, design=tuple(design), quantities=quantities, entities=tuple(entities),
            direction=direction, significance=significance,  # type: ignore[arg-type]
            hedged=bool(hedges), hedges=tuple(Span(h.start, h.end, h.text) for h in hedges),
            causal_strength=strength, causal_cue=cue,  # type: ignore[arg-type]
            open_question=open_question,
            rule_ids=tuple(rule_ids),
        )

    def _comparator(self, start: int, end: int, found: list[_Match],
                    entities: list[Entity]) -> str | None:
        comps = [m for m in found if m.label == "COMPARATOR"]
        if comps:
            return max(comps, key=lambda m: (m.end - m.start, -m.start)).text.lower()
        for m in re.finditer(r"\b(?:versus|vs\.?|compared\s+(?:with|to))\s+", self.text[start:end]):
            at = start + m.end()
            for e in entities:
                if e.label == "DRUG" and e.span.start == at:
                    return e.norm
        return None

    def _outcome(self, entities: list[Entity], found: list[_Match],
                 quantities: Sequence[Quantity]) -> str | None:
        outcomes = [e for e in entities if e.label == "OUTCOME"]
        if not outcomes:
            return None
        anchors = [q.span.start for q in quantities if q.kind in _EFFECT_KINDS]
        anchors += [m.start for m in found if m.label in ("DIRECTION_WORD", "DIRECTION", "SIGNIFICANCE")]
        if not anchors:
            return max(outcomes, key=lambda e: len(e.norm)).norm
        anchor = anchors[0]
        best = min(outcomes, key=lambda e: (abs(e.span.start - anchor), -len(e.norm)))
        return best.norm


