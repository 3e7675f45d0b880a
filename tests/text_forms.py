"""Text written the way East Asian keyboards and spreadsheets often write it, for tests of
normalisation and of erasure that must see through it."""

from __future__ import annotations


def full_width(text: str) -> str:
    """``text`` with ASCII letters, digits and punctuation in their full-width forms."""
    return "".join(
        "\u3000" if ch == " " else chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text
    )
