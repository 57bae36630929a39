"""``Reply``: a success response with its own HTTP status or headers."""

from __future__ import annotations

import base64
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from ..errors import InvalidParameterValueException

__all__ = ["Reply", "lambda_page"]

T = TypeVar("T")


class Reply:
    """A success response with a status or headers other than the operation's defaults.

    ``body`` is the parsed response (members of the operation's output shape); ``status`` the
    HTTP status (the model's ``responseCode`` otherwise); ``headers`` are added to the HTTP
    headers (Lambda's ``X-Amz-Function-Error`` and the like).
    """

    __slots__ = ("status", "headers", "body")

    def __init__(
        self, body: dict[str, Any], status: int = 200, headers: Mapping[str, str] | None = None
    ) -> None:
        self.body = body
        self.status = status
        self.headers = dict(headers) if headers else {}


def lambda_page(
    items: Sequence[T], p: Mapping[str, Any], key: Callable[[T], str], default_limit: int
) -> tuple[list[T], str | None]:
    """One page of a Lambda List* call: ``Marker`` (base64 of the last key seen) and
    ``MaxItems`` in, the page and its ``NextMarker`` (``None`` on the last page) out.

    Raises ``InvalidParameterValueException`` for a marker that names no item.
    """
    start = 0
    marker = p.get("Marker")
    if marker:
        keys = [key(item) for item in items]
        try:
            start = keys.index(base64.urlsafe_b64decode(marker.encode()).decode()) + 1
        except ValueError:
            raise InvalidParameterValueException("Invalid Marker.") from None
    limit = p.get("MaxItems", default_limit)
    page = list(items[start : start + limit])
    more = start + limit < len(items) and page
    return page, base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more else None
