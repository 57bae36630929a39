"""What a process that runs for months must give back: outboxes keep the newest entries only,
a deleted (or refused) zip function leaves no directory, ``sys.path`` entry, module or
execution environment behind, and an archive over Lambda's 250 MB unzipped quota is refused
with Lambda's error before anything is written."""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile

import pytest

import decoupling as dc

ROLE = "arn:aws:iam::000000000000:role/lambda-ex"
OUTBOX_LIMIT = 1_000  # decoupling.sns.delivery.OUTBOX_LIMIT


def test_an_outbox_keeps_the_newest_entries_only(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "alerts")
    topic.subscribe("+15551234567", "sms")
    for i in range(OUTBOX_LIMIT + 250):
        topic.publish(f"alert {i}")
    from decoupling.sns import delivery

    assert delivery.OUTBOX_LIMIT == OUTBOX_LIMIT
    assert len(topic.outbox) == 1_000
    assert topic.outbox[0].body == "alert 250"
    assert topic.outbox[-1].body == f"alert {OUTBOX_LIMIT + 249}"


def test_email_confirmations_count_against_the_same_bound(loop: dc.EventLoop) -> None:
    topic = dc.Topic(loop, "signups")
    for i in range(OUTBOX_LIMIT + 5):
        topic.subscribe(f"user{i}@example.com", "email")
    assert len(topic.outbox) == OUTBOX_LIMIT
    assert topic.outbox[0].endpoint == "user5@example.com"


def test_deleting_a_function_releases_its_execution_environments(loop: dc.EventLoop) -> None:
    runtime = dc.FunctionRuntime(loop, isolation="inline")
    runtime.register("echo", lambda event, context: event)
    runtime.invoke("echo", {"n": 1})
    fn = runtime.get_function("echo")
    assert len(fn.environments) == 1
    runtime.delete_function("echo")
    assert fn.environments == [] and fn._idle == {}
    runtime.close()


# -- zip functions through the boto3 bridge ------------------------------------------------------

HANDLER = "import helper_{0}\n\ndef handler(event, context):\n    return helper_{0}.VALUE\n"


def zipped(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def declaring(size: int) -> bytes:
    """A small stored archive whose one entry *declares* ``size`` unzipped bytes (a zip bomb
    as the Lambda service sees it: the declared sizes are what count)."""
    data = bytearray(zipped({"bomb.bin": "0123456789"}))
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22:local + 26] = struct.pack("<I", size)
    data[central + 24:central + 28] = struct.pack("<I", size)
    return bytes(data)


@pytest.fixture
def lam(loop: dc.EventLoop):  # type: ignore[no-untyped-def]
    boto3 = pytest.importorskip("boto3")
    from decoupling.boto import serve

    with serve(loop):
        yield boto3.client("lambda")


def code_dirs() -> list[str]:
    return [p for p in sys.path if "decoupling-lambda-" in p]


def test_delete_function_removes_its_code_path_and_modules(lam) -> None:  # type: ignore[no-untyped-def]
    before = code_dirs()
    packages_before = {n for n in sys.modules if n.startswith("_decoupling_code_")}
    for name, value in (("one", "1"), ("two", "2")):
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=ROLE,
                            Handler="main.handler",
                            Code={"ZipFile": zipped({"main.py": HANDLER.format(name),
                                                     f"helper_{name}.py": f"VALUE = {value}\n"})})
        assert lam.invoke(FunctionName=name)["Payload"].read() == value.encode()
    added = [p for p in code_dirs() if p not in before]
    assert len(added) == 2 and all(os.path.isdir(p) for p in added)
    lam.delete_function(FunctionName="one")
    lam.delete_function(FunctionName="two")
    assert code_dirs() == before
    assert not any(os.path.exists(p) for p in added)
    assert not any(getattr(m, "__file__", None) and any(
        str(m.__file__).startswith(p) for p in added) for m in list(sys.modules.values()))
    assert {n for n in sys.modules if n.startswith("_decoupling_code_")} == packages_before


def test_a_refused_create_function_leaves_no_code_behind(lam) -> None:  # type: ignore[no-untyped-def]
    from botocore.exceptions import ClientError

    before = code_dirs()
    with pytest.raises(ClientError):
        lam.create_function(FunctionName="bad", Runtime="python3.12", Role=ROLE,
                            Handler="main.handler", Timeout=1801,
                            Code={"ZipFile": zipped({"main.py": HANDLER.format("x")})})
    assert code_dirs() == before


def test_unzipped_size_over_lambdas_quota_is_refused_before_unpacking(lam) -> None:  # type: ignore[no-untyped-def]
    from botocore.exceptions import ClientError

    before = code_dirs()
    bomb = declaring(262_144_000)
    assert len(bomb) < 200
    with pytest.raises(ClientError) as caught:
        lam.create_function(FunctionName="bomb", Runtime="python3.12", Role=ROLE,
                            Handler="bomb.handler", Code={"ZipFile": bomb})
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidParameterValueException"
    assert error["Message"] == "Unzipped size must be smaller than 262144000 bytes"
    assert code_dirs() == before
    assert "bomb" not in [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    # One byte under the quota is unpacked (the entry really holds 10 bytes).
    lam.create_function(FunctionName="fits", Runtime="python3.12", Role=ROLE,
                        Handler="bomb.handler", Code={"ZipFile": declaring(262_143_999)})
    lam.delete_function(FunctionName="fits")


UPDATER = '''\
import os

import boto3


def handler(event, context):
    if event.get("update"):
        boto3.client("lambda").update_function_configuration(
            FunctionName=context.function_name, Environment={"Variables": {"STAGE": "new"}})
    return os.environ["STAGE"]
'''


def test_an_environment_busy_during_an_update_is_not_reused(lam) -> None:  # type: ignore[no-untyped-def]
    lam.create_function(FunctionName="stage", Runtime="python3.12", Role=ROLE,
                        Handler="updater.handler", Environment={"Variables": {"STAGE": "old"}},
                        Code={"ZipFile": zipped({"updater.py": UPDATER})})
    # The update happens while this invocation's environment is busy: it answers "old"...
    assert lam.invoke(FunctionName="stage", Payload=b'{"update": true}')["Payload"].read() \
        == b'"old"'
    # ...and is then retired: the next invocation runs in a new environment with the new
    # configuration, as on Lambda.
    assert lam.invoke(FunctionName="stage", Payload=b"{}")["Payload"].read() == b'"new"'
    lam.delete_function(FunctionName="stage")
