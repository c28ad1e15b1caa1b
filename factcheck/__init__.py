"""factcheck: compare what a health news story says with the abstract of the paper it cites."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
