"""Splitting a reply into sentences so that speech can start after the first one."""

from __future__ import annotations

import re

_ABBREVIATIONS = frozenset({"mr", "mrs", "ms", "dr", "st", "vs", "etc", "e.g", "i.e", "a.m", "p.m"})
_BOUNDARY = re.compile(r"([.!?…]+)[\"')\]]*\s+")


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into sentences, keeping their punctuation (pure).

    A boundary is terminal punctuation followed by whitespace, except after a known
    abbreviation ("Dr. Smith") or a single capital initial ("J. Doe"). Numbers such as
    "10.30" never split because no whitespace follows the dot.
    """
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        before = text[start : match.start()]
        last_word = before.rsplit(None, 1)[-1] if before.split() else ""
        if match.group(1) == "." and _is_abbreviation(last_word):
            continue
        piece = text[start : match.end()].strip()
        if piece:
            sentences.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


def _is_abbreviation(word: str) -> bool:
    bare = word.lower().strip("\"'(")
    return bare in _ABBREVIATIONS or (len(bare) == 1 and bare.isalpha() and word[-1:].isupper())
