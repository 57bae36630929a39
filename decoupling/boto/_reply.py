"""``Reply``: a success response with its own HTTP status or headers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Reply"]


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
