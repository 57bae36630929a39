"""AWS errors as ``decoupling.errors``: every ``botocore`` ``ClientError`` becomes the class with
the same ``.code``.

SQS's JSON protocol reports two codes: ``Error.Code`` is the legacy query code
(``AWS.SimpleQueueService.NonExistentQueue``) and ``Error.QueryErrorCode`` the shape name
(``QueueDoesNotExist``); older servers and the query protocol give only the first. Both
resolve through the one table in :mod:`decoupling.errors` (each class's ``code`` and
``query_code``) and the bridge's shape renames (:data:`decoupling.boto._errors.SQS_SHAPE_FOR_CODE`).
A code no class stands for gets a class of its own, made once, that keeps the code.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from botocore.exceptions import ClientError, ParamValidationError

from ..boto._errors import SQS_SHAPE_FOR_CODE
from ..errors import DecouplingError, InvalidParameterValue

__all__ = ["translate", "AwsServiceError"]

_SHAPE_TO_CODE = {shape: code for code, shape in SQS_SHAPE_FOR_CODE.items()}
_made: dict[str, type[DecouplingError]] = {}
_made_lock = threading.Lock()


class AwsServiceError(DecouplingError):
    """Base of the classes made for AWS error codes that :mod:`decoupling.errors` does not
    name (``ThrottlingException`` after botocore's retries, ``KMS.AccessDeniedException``…)."""


@functools.cache
def _known() -> dict[str, type[DecouplingError]]:
    table: dict[str, type[DecouplingError]] = {}
    pending: list[type[DecouplingError]] = [DecouplingError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is DecouplingError or issubclass(cls, AwsServiceError):
            continue
        table.setdefault(cls.code, cls)
        if cls.query_code is not None:
            table.setdefault(cls.query_code, cls)
    return table


def _class_for(code: str, status: int, sender_fault: bool) -> type[DecouplingError]:
    known = _known()
    cls = known.get(_SHAPE_TO_CODE.get(code, code))
    if cls is not None:
        return cls
    with _made_lock:
        cls = _made.get(code)
        if cls is None:
            name = "".join(ch for ch in code.rsplit(".", 1)[-1] if ch.isalnum()) or "AwsError"
            cls = type(name, (AwsServiceError,), {
                "code": code, "status": status, "sender_fault": sender_fault,
                "__module__": __name__,
                "__doc__": f"The AWS error code {code!r} (no class of its own).",
            })
            _made[code] = cls
    return cls


def translate(error: Exception) -> DecouplingError:
    """The :class:`~decoupling.DecouplingError` for a botocore exception (``ClientError``, or
    ``ParamValidationError``, botocore's own check of a parameter's type, as
    ``InvalidParameterValue``)."""
    if isinstance(error, ParamValidationError):
        return InvalidParameterValue(str(error))
    if not isinstance(error, ClientError):
        raise TypeError(f"not a botocore error: {error!r}")
    response: dict[str, Any] = error.response
    detail = response.get("Error", {})
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 400)
    sender = detail.get("Type", "Sender") != "Receiver" and status < 500
    message = str(detail.get("Message") or error)
    for code in (detail.get("QueryErrorCode"), detail.get("Code")):
        if code and (_SHAPE_TO_CODE.get(code, code) in _known()):
            return _class_for(code, status, sender)(message)
    code = str(detail.get("Code") or detail.get("QueryErrorCode") or "InternalError")
    return _class_for(code, status, sender)(message)

