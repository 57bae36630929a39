"""Lambda List* pagination through the bridge: MaxItems, NextMarker, and a bad Marker."""

from __future__ import annotations

from typing import Any

import pytest

import decoupling as dc

boto3 = pytest.importorskip("boto3")
from botocore.exceptions import ClientError  # noqa: E402

from decoupling.boto import inline_code, serve  # noqa: E402


def handler(event: Any, context: Any) -> Any:
    return event


def test_list_functions_pages_by_marker(loop: dc.EventLoop) -> None:
    with serve(loop):
        lam = boto3.client("lambda")
        for name in ("a", "b", "c"):
            lam.create_function(FunctionName=name, Runtime="python3.12",
                                Role="arn:aws:iam::000000000000:role/r",
                                Handler="x.handler", Code=inline_code(handler))
        first = lam.list_functions(MaxItems=2)
        assert [f["FunctionName"] for f in first["Functions"]] == ["a", "b"]
        second = lam.list_functions(MaxItems=2, Marker=first["NextMarker"])
        assert [f["FunctionName"] for f in second["Functions"]] == ["c"]
        assert "NextMarker" not in second
        with pytest.raises(ClientError) as caught:
            lam.list_functions(Marker="bm9wZQ==")  # "nope": names no function
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
