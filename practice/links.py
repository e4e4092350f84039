"""URLs inside a practice, reversed once per shape.

A list page links every row (an invoice, a payment, an appointment): a hundred calls of
Django's ``reverse`` with the same URL name and only the ids changing. ``practice_url``
reverses each (name, practice, argument names) once with stand-in ids, then writes each
row's ids into that text. Only whole-number arguments take this path (ids, which every
converter in the project's routes prints as plain digits); anything else goes through
``reverse``, as does a name whose stand-ins do not each appear exactly once.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.urls import get_script_prefix, get_urlconf, reverse

Shape = tuple[list[str], list[str]]

# Stand-in ids: long and unlike any id or slug a URL will hold. Each is checked to
# appear once in the reversed text before the shape is used.
_STAND_IN = 7_301_946_285_000


@lru_cache(maxsize=1024)
def _shape(name: str, slug: str, keys: tuple[str, ...], prefix: str, urlconf: Any) -> Shape | None:
    """The reversed URL cut at its stand-ins: the literal pieces, and the argument that goes
    after each piece but the last, in the order they appear."""
    stand_ins = {str(_STAND_IN + n): key for n, key in enumerate(keys)}
    url = reverse(name, urlconf=urlconf, kwargs={"practice_slug": slug, **{k: int(v) for v, k in stand_ins.items()}})
    if any(url.count(text) != 1 for text in stand_ins):
        return None
    found = sorted((url.index(text), text) for text in stand_ins)
    pieces, order, start = [], [], 0
    for at, text in found:
        pieces.append(url[start:at])
        order.append(stand_ins[text])
        start = at + len(text)
    pieces.append(url[start:])
    return pieces, order


def practice_url(name: str, slug: str, **kwargs: Any) -> str:
    """``reverse(name, kwargs={"practice_slug": slug, **kwargs})``, fast for id arguments."""
    if all(type(value) is int and value >= 0 for value in kwargs.values()):
        shape = _shape(name, slug, tuple(sorted(kwargs)), get_script_prefix(), get_urlconf())
        if shape is not None:
            pieces, order = shape
            out = [pieces[0]]
            for key, piece in zip(order, pieces[1:], strict=True):
                out.append(str(kwargs[key]))
                out.append(piece)
            return "".join(out)
    return reverse(name, kwargs={"practice_slug": slug, **kwargs})
