"""Untrusted text (resource names, URNs, policy messages, principals and policy names from code, config
or the account) escaped at the edge: one helper per output format, used by every report.

A name can hold backticks, newlines, `<!--` or a whole forged heading; unescaped, it can close a
code span, start an HTML comment that hides the violations of every stack after it, or add a
"passes" line of its own. Each helper returns one line of inert text in its format.
"""

from __future__ import annotations

import re
import unicodedata

# Line breaks and every other control or format character (Unicode Cc, Cf, Zl, Zp) become a space:
# nothing untrusted may start a new Markdown line or hide text from a reviewer.
_INVISIBLE = ("Cc", "Cf", "Zl", "Zp")
# The ASCII punctuation CommonMark and GitHub give a meaning to within a line (`#`, `+`, `-` and digits
# only matter at the start of a line, `(` and `!` only next to a `[`: none of those can happen here).
_MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]|<>~$&])")
_SARIF_ACTIVE = re.compile(r"([\\\[\]])")  # SARIF message text: embedded links [text](id)
# Characters XML 1.0 cannot carry at all: a report holding one cannot be read.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def one_line(text: object) -> str:
    """The text on one line, every invisible or control character a space, runs of spaces one."""
    flat = "".join(" " if unicodedata.category(char) in _INVISIBLE else char for char in str(text))
    return " ".join(flat.split())


def markdown(text: object, *, code: bool = False) -> str:
    """Inert inline Markdown (GitHub-flavoured, safe inside table cells).

    `code=True` sets it as a code span: the fence is longer than any run of backticks in it, so it
    cannot be closed early, and `|` is escaped so a table keeps its cells."""
    line = one_line(text)
    if not code:
        return _MARKDOWN_ACTIVE.sub(r"\\\1", line)
    if not line:
        return "` `"
    fence = "`" * (max((len(run) for run in re.findall(r"`+", line)), default=0) + 1)
    padded = f" {line} " if line.startswith("`") or line.endswith("`") else line
    return fence + padded.replace("|", "\\|") + fence


def sarif(text: object) -> str:
    """SARIF message text: one line, with `[`, `]` and `\\` escaped so no embedded link is formed."""
    return _SARIF_ACTIVE.sub(r"\\\1", one_line(text))


def junit(text: object, *, multiline: bool = False) -> str:
    """Text a JUnit XML report can hold (the XML writer escapes `<` and `&`); one line unless
    `multiline`, where only characters XML cannot carry are replaced."""
    return _NOT_XML.sub("\ufffd", str(text)) if multiline else _NOT_XML.sub("\ufffd", one_line(text))


# A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"); a
# leading tab or carriage return can hide one. Fullwidth forms are normalised to them by some.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: object) -> str:
    """A CSV cell a spreadsheet shows as text: one line, and a leading `'` where it would start a
    formula. The csv module quotes separators and quotes."""
    raw = "" if text is None else str(text)
    line = one_line(raw)
    return "'" + line if raw.startswith(_FORMULA_START) or line.startswith(_FORMULA_START) else line
