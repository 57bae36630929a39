"""Function URLs answer real HTTP requests on 127.0.0.1 (payload format 2.0)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

import decoupling as dc
from decoupling import errors


@pytest.fixture
def rt(loop: dc.EventLoop) -> Iterator[dc.FunctionRuntime]:
    runtime = dc.FunctionRuntime(loop)
    yield runtime
    runtime.close()


def echo(event: Any, context: Any) -> Any:
    return {"statusCode": 201, "headers": {"x-seen": event["rawPath"]},
            "cookies": ["a=1"], "body": json.dumps(event)}


def _open(request: urllib.request.Request | str) -> Any:
    return urllib.request.urlopen(request, timeout=10)


def test_a_function_url_answers_a_real_http_request(rt: dc.FunctionRuntime) -> None:
    rt.register("f", echo)
    url = rt.create_function_url("f")
    assert url.url.startswith("http://127.0.0.1:") and url.url.endswith(f"/{url.url_id}/")
    assert url.aws_url == f"https://{url.url_id}.lambda-url.us-east-1.on.aws/"
    request = urllib.request.Request(
        url.url + "orders/7?id=1&id=2&x=", data=b'{"n": 1}', method="POST",
        headers={"Content-Type": "application/json", "Cookie": "s=1; t=2"})
    with _open(request) as response:
        assert response.status == 201
        assert response.headers["x-seen"] == "/orders/7"
        assert response.headers["Set-Cookie"] == "a=1"
        event = json.loads(response.read())
    assert (event["version"], event["routeKey"], event["rawPath"]) == ("2.0", "$default", "/orders/7")
    assert event["rawQueryString"] == "id=1&id=2&x="
    assert event["queryStringParameters"] == {"id": "1,2", "x": ""}
    assert event["cookies"] == ["s=1", "t=2"]
    assert (event["body"], event["isBase64Encoded"]) == ('{"n": 1}', False)
    assert event["headers"]["content-type"] == "application/json"
    context = event["requestContext"]
    assert context["http"]["method"] == "POST" and context["http"]["sourceIp"] == "127.0.0.1"
    assert (context["apiId"], context["domainName"]) == (
        url.url_id, f"{url.url_id}.lambda-url.us-east-1.on.aws")


def test_results_without_status_code_errors_and_binary_bodies(rt: dc.FunctionRuntime) -> None:
    rt.register("plain", lambda e, c: {"isBase64Encoded": e["isBase64Encoded"],
                                       "body": e.get("body")})
    rt.register("broken", lambda e, c: 1 / 0)
    plain = rt.create_function_url("plain")
    broken = rt.create_function_url("broken")
    request = urllib.request.Request(plain.url, data=b"\x00\xff", method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
    with _open(request) as response:
        assert (response.status, response.headers["Content-Type"]) == (200, "application/json")
        assert json.loads(response.read()) == {"isBase64Encoded": True, "body": "AP8="}
    with pytest.raises(urllib.error.HTTPError) as info:
        _open(broken.url)
    assert (info.value.code, info.value.read()) == (502, b"Internal Server Error")


def test_aws_iam_urls_refuse_unsigned_requests(rt: dc.FunctionRuntime) -> None:
    rt.register("f", lambda e, c: "ok")
    url = rt.create_function_url("f", auth_type="AWS_IAM")
    with pytest.raises(urllib.error.HTTPError) as info:
        _open(url.url)
    assert (info.value.code, json.loads(info.value.read())) == (403, {"Message": "Forbidden"})
    signed = urllib.request.Request(url.url, headers={
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/lambda/aws4_request,"
                         " SignedHeaders=host, Signature=abc"})
    with _open(signed) as response:
        assert json.loads(response.read()) == "ok"
    rt.update_function_url("f", auth_type="NONE")
    with _open(url.url) as response:
        assert response.status == 200
    rt.delete_function_url("f")
    with pytest.raises(urllib.error.HTTPError) as info:
        _open(url.url)
    assert info.value.code == 403


def test_an_alias_url_routes_to_its_version_and_urls_are_checked(rt: dc.FunctionRuntime) -> None:
    rt.register("f", lambda e, c: c.function_version)
    rt.publish_version("f")
    rt.create_alias("f", "live", "1")
    url = rt.create_function_url("f", qualifier="live",
                                 cors={"AllowOrigins": ["https://shop.example"],
                                       "AllowMethods": ["GET"]})
    assert url.function_arn == "arn:aws:lambda:us-east-1:000000000000:function:f:live"
    request = urllib.request.Request(url.url, headers={"Origin": "https://shop.example"})
    with _open(request) as response:
        assert json.loads(response.read()) == "1"
        assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    with pytest.raises(errors.ResourceConflictException, match="FunctionUrlConfig exists"):
        rt.create_function_url("f", qualifier="live")
    with pytest.raises(errors.InvalidParameterValueException, match="authType"):
        rt.create_function_url("f", auth_type="OPEN")
    with pytest.raises(errors.ResourceNotFoundException):
        rt.create_function_url("f", qualifier="nope")
    assert [u.qualifier for u in rt.list_function_urls("f")] == ["live"]
