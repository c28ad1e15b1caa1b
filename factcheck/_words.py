"""Word forms the mention reader and the paper search compare in the same way."""

from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """Lowercase without accents: "Mørch" and "Morch", "Séverine" and "Severine" compare equal."""
    return "".join(c for c in unicodedata.normalize("NFKD", text or "")
                   if not unicodedata.combining(c)).lower()


def singular(word: str) -> str:
    """A crude singular of a folded word: enough to count "straighteners" and "straightener",
    "studies" and "study" as one word (never applied to "ss", "us", "is" endings)."""
    w = fold(word)
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 4 and w.endswith(("ches", "shes", "sses", "xes")):
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w
