"""Languages of the web pages: choose one per request and look up its strings.

The language comes from ``?lang=`` first, then the ``lang`` cookie, then the
browser's ``Accept-Language``; English is the default. Strings live in
``translations/<code>.json`` as flat ``{"dotted.key": "text"}`` maps with the
same keys in every language.

Examples
--------
>>> negotiate(query=None, cookie=None, accept_language="zh-CN,zh;q=0.9,en;q=0.8")
'zh'
>>> negotiate(query="en", cookie="zh", accept_language="zh")
'en'
>>> Translator("zh").t("nav.strains")
'菌种'
"""

from __future__ import annotations

import json
import os
import string
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Final

__all__ = [
    "DEFAULT_LANGUAGE",
    "LANGUAGES",
    "MissingTranslationError",
    "Translator",
    "catalogue",
    "negotiate",
    "strict_default",
]

#: Language codes the pages speak, with the name each calls itself.
LANGUAGES: Final[dict[str, str]] = {"en": "English", "zh": "中文"}
DEFAULT_LANGUAGE: Final = "en"
STRICT_ENV: Final = "CELLFOUNDRY_I18N_STRICT"


class MissingTranslationError(KeyError):
    """A page asked for a string that a translation file does not have."""


def strict_default() -> bool:
    """Whether a missing key raises: under pytest, or when ``CELLFOUNDRY_I18N_STRICT=1``."""
    return os.environ.get(STRICT_ENV) == "1" or "PYTEST_CURRENT_TEST" in os.environ


@cache
def catalogue(lang: str) -> Mapping[str, str]:
    """Return the strings of one language (read once from its JSON file)."""
    if lang not in LANGUAGES:
        raise MissingTranslationError(f"no translation file for language {lang!r}")
    path = resources.files("cellfoundry.web").joinpath("translations", f"{lang}.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise MissingTranslationError(f"{lang}.json is not a JSON object")
    return {str(k): str(v) for k, v in data.items()}


def _parse_accept_language(header: str) -> list[tuple[float, str]]:
    ranked: list[tuple[float, str]] = []
    for i, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                weight = 0.0
        if tag:
            # later entries of equal weight rank lower
            ranked.append((weight - i * 1e-6, tag.strip().lower()))
    return sorted(ranked, reverse=True)


def negotiate(*, query: str | None, cookie: str | None, accept_language: str | None) -> str:
    """Choose the page language from the query parameter, the cookie and the browser."""
    for choice in (query, cookie):
        if choice and choice.lower() in LANGUAGES:
            return choice.lower()
    for weight, tag in _parse_accept_language(accept_language or ""):
        primary = tag.split("-", 1)[0]
        if weight > 0 and primary in LANGUAGES:
            return primary
    return DEFAULT_LANGUAGE


class Translator:
    """The strings of one language for one request.

    Parameters
    ----------
    lang
        A code of :data:`LANGUAGES`.
    strict
        Raise :class:`MissingTranslationError` for an unknown key instead of
        falling back to English and then to the key itself. Defaults to
        :func:`strict_default`, so tests catch every missing string.
    """

    def __init__(self, lang: str, *, strict: bool | None = None) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
        self.strict = strict_default() if strict is None else strict
        self._strings = catalogue(self.lang)

    def t(self, key: str, /, **values: object) -> str:
        """Return the string for ``key``, with ``{name}`` placeholders filled from ``values``."""
        text = self._strings.get(key)
        if text is None:
            if self.strict:
                raise MissingTranslationError(f"no {self.lang!r} translation for {key!r}")
            text = catalogue(DEFAULT_LANGUAGE).get(key, key)
        if values:
            return string.Formatter().vformat(text, (), values)
        return text

    __call__ = t

    def has(self, key: str) -> bool:
        """Whether this language has a string for ``key``."""
        return key in self._strings

    def value(self, group: str, value: object) -> str:
        """Translate a catalogue value (``status``, ``organism_type`` ...), else show it as is.

        Values from outside the closed vocabularies (data) are shown unchanged.
        """
        if value is None:
            return ""
        key = f"{group}.{value}"
        return self._strings[key] if key in self._strings else str(value)
