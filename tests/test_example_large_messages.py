"""examples/large_messages.py runs (with a 2 MB payload here) and reports exactly."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "large_messages.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("large_messages_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("large_messages_example", module)
    spec.loader.exec_module(module)
    return module


def test_large_messages_output(capsys: pytest.CaptureFixture[str]) -> None:
    got = load_example().main(size=2_000_000)
    pointer = got.pop("queue_message")
    key = got.pop("key")
    assert re.fullmatch(
        r'\["software\.amazon\.payloadoffloading\.PayloadS3Pointer", \{"s3BucketName": '
        r'"large-payloads", "s3Key": "[0-9a-f-]{36}"\}\]', pointer
    )
    assert key in pointer
    assert got == {
        "payload_bytes": 2_000_000,
        "queue_object_bytes": 2_000_000,
        "queue_message_attributes": {"type": "scan", "ExtendedPayloadSize": "2000000"},
        "queue_intact": True,
        "queue_attributes": {"type": "scan"},
        "objects_after_queue": 0,
        "objects_after_publish": 1,
        "archive_intact": True,
        "objects_after_archive_delete": 1,
        "ocr_intact": True,
        "objects_after_ocr_delete": 0,
    }
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "payload: 2,000,000 bytes"
    assert lines[1] == (
        "documents: the bucket holds a 2,000,000 byte object; the queue a 139 character message:"
    )
    assert lines[2] == "  " + pointer.replace(key, "<key>")
    assert lines[3:] == [
        "  attributes {'type': 'scan', 'ExtendedPayloadSize': '2000000'}",
        "documents: received intact: True; objects left after delete: 0",
        "scans: published once, 1 object for two queues",
        "archive: intact: True; objects left after its delete: 1",
        "ocr: intact: True; objects left after its delete: 0",
    ]
