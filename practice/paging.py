"""Pages of long lists whose cost does not grow with the table.

An exact ``COUNT(*)`` of 20,000 invoices reads all 20,000 rows on every page view, only to
print "Page 1 of 400". ``CappedPaginator`` counts at most ``cap + 1`` rows: up to the cap
the page shows its exact count and page total as before; past it the list reads "more
than 1,000" and pages on with Previous and Next, each page reading one row past its end to
know whether another page follows. Either way a page costs the same two queries.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator

COUNT_CAP = 1000


class CappedPage(Page):
    """A page of a list longer than the cap: it knows whether a next page exists by the
    extra row it read, not by the total."""

    def __init__(self, object_list: Any, number: int, paginator: CappedPaginator, *, more: bool) -> None:
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self) -> bool:
        return self.more

    def next_page_number(self) -> int:
        return self.number + 1

    def end_index(self) -> int:
        return self.start_index() + len(self.object_list) - 1 if self.object_list else 0


class CappedPaginator(Paginator):
    def __init__(self, object_list: Any, per_page: int, *, cap: int | None = None, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.cap = COUNT_CAP if cap is None else cap

    @cached_property
    def count(self) -> int:
        """The number of rows, or ``cap + 1`` when there are more than ``cap``."""
        rows: Any = self.object_list
        if hasattr(rows, "capped_count"):  # a list that counts itself (the Credits tab's)
            return int(rows.capped_count(self.cap + 1))
        if hasattr(rows, "query"):
            # SELECT COUNT(*) FROM (... LIMIT cap + 1) without the list's ORDER BY: which
            # rows make up the first cap + 1 does not change how many there are, and the
            # scan stops early without sorting (the Credits tab's union sorted 4,000 rows).
            return int(rows.order_by()[: self.cap + 1].count())
        return min(len(rows), self.cap + 1)

    @property
    def capped(self) -> bool:
        """True when the list is longer than the cap and its length is not known."""
        return self.count > self.cap

    @property
    def count_label(self) -> str:
        """The count as a caption says it: "20" or "more than 1,000"."""
        return f"more than {self.cap:,}" if self.capped else str(self.count)

    @cached_property
    def num_pages(self) -> int:
        if self.capped:
            return math.ceil(self.cap / self.per_page)  # the pages known to exist
        return super().num_pages

    def validate_number(self, number: Any) -> int:
        if not self.capped:
            return super().validate_number(number)
        try:
            value = int(number)
        except (TypeError, ValueError) as error:
            raise PageNotAnInteger("That page number is not an integer") from error
        if value < 1:
            raise EmptyPage("That page number is less than 1")
        return value

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if not self.capped:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage("That page contains no results")
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)

    def get_page(self, number: Any) -> Page:
        try:
            return self.page(number)
        except PageNotAnInteger:
            return self.page(1)
        except EmptyPage:
            return self.page(1 if self.capped else self.num_pages)


class CountedPaginator(Paginator):
    """A Paginator given its count: for a page showing several lists whose counts were
    read together in one query."""

    def __init__(self, object_list: Any, per_page: int, *, count: int, **kwargs: Any) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.__dict__["count"] = count
