"""Errors on the wire: a :class:`~decoupling.errors.DecouplingError` rendered as the service
would send it, then parsed by botocore's own parser for the service's protocol.

Rendering the bytes and letting botocore parse them keeps ``ClientError.response`` exactly as
botocore builds it from the real service (``Error.Code``, ``Error.Message``, ``Error.Type``,
``Error.QueryErrorCode``, modeled members such as ``message``, ``ResponseMetadata``), and lets
botocore pick the modeled exception class (``client.exceptions.QueueDoesNotExist``).

The three wire forms:

* SQS (AWS JSON 1.0, query-compatible): header ``x-amzn-query-error: <legacy code>;Sender``
  and body ``{"__type": "com.amazonaws.sqs#<shape>", "message": ...}`` (SQS Developer Guide,
  "Interpreting Amazon SQS JSON API responses"). botocore reports the legacy code as
  ``Error.Code`` (``AWS.SimpleQueueService.NonExistentQueue``), keeps the shape name in
  ``Error.QueryErrorCode`` and raises the class named by it. Codes SQS does not model come
  with a ``com.amazon.coral.service#<Code>Exception`` type and raise a plain ``ClientError``.
* SNS (query, XML): ``<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>
  <Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>``.
* S3 (REST XML): ``<Error><Code>NoSuchKey</Code><Message>...</Message><RequestId>...
  </RequestId><HostId>...</HostId></Error>`` with ``x-amz-request-id`` and ``x-amz-id-2``
  headers; a HEAD request's error (and a 304) has no body, so botocore reports the HTTP status as the code
  (``"404"``), as it does against S3.
* CloudWatch Logs (AWS JSON 1.1): body ``{"__type": "<Code>", "message": ...}``, HTTP 400.
* Lambda (REST JSON): header ``x-amzn-ErrorType: <Code>``, body ``{"Type": "User",
  "message": ...}`` (the message key spelled as the error shape spells it).
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse
from botocore.model import OperationModel
from botocore.parsers import ResponseParser, create_parser

from ..errors import DecouplingError

__all__ = ["render", "SQS_SHAPE_FOR_CODE"]

#: SQS error codes whose botocore shape has another name.
SQS_SHAPE_FOR_CODE = {"QueueAlreadyExists": "QueueNameExists"}

_parsers: dict[str, ResponseParser] = {}


def _parser(protocol: str) -> ResponseParser:
    parser = _parsers.get(protocol)
    if parser is None:
        parser = _parsers[protocol] = create_parser(protocol)
    return parser


def _sqs_wire(
    model: OperationModel, error: DecouplingError, request_id: str
) -> tuple[dict[str, str], bytes]:
    service = model.service_model
    shape = SQS_SHAPE_FOR_CODE.get(error.code, error.code)
    modeled = shape in {s.name for s in service.error_shapes}
    type_ = f"com.amazonaws.sqs#{shape}" if modeled else f"com.amazon.coral.service#{shape}Exception"
    fault = "Sender" if error.sender_fault else "Receiver"
    headers = {
        "x-amzn-requestid": request_id,
        "x-amzn-query-error": f"{error.query_code or error.code};{fault}",
        "content-type": "application/x-amz-json-1.0",
    }
    body = json.dumps({"__type": type_, "message": error.message}).encode()
    return headers, body


def _sns_wire(
    model: OperationModel, error: DecouplingError, request_id: str
) -> tuple[dict[str, str], bytes]:
    fault = "Sender" if error.sender_fault else "Receiver"
    namespace = model.service_model.metadata.get("xmlNamespace", "")
    body = (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault}</Type>'
        f"<Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()
    return {"x-amzn-requestid": request_id, "content-type": "text/xml"}, body


def _lambda_wire(
    model: OperationModel, error: DecouplingError, request_id: str
) -> tuple[dict[str, str], bytes]:
    shape = model.service_model.shape_for_error_code(error.code)
    members = shape.members if shape is not None else {}
    key = "Message" if "Message" in members else "message"
    payload: dict[str, Any] = {"Type": "User" if error.sender_fault else "Service", key: error.message}
    if error.code == "TooManyRequestsException" and "Reason: " in error.message:
        payload["Reason"] = error.message.rsplit("Reason: ", 1)[1].strip(" .")
    headers = {
        "x-amzn-requestid": request_id,
        "x-amzn-errortype": error.code,
        "content-type": "application/json",
    }
    return headers, json.dumps(payload).encode()


def _logs_wire(
    model: OperationModel, error: DecouplingError, request_id: str
) -> tuple[dict[str, str], bytes]:
    """CloudWatch Logs (AWS JSON 1.1): ``{"__type": <code>, "message": ...}``."""
    headers = {"x-amzn-requestid": request_id, "content-type": "application/x-amz-json-1.1"}
    return headers, json.dumps({"__type": error.code, "message": error.message}).encode()


def s3_host_id(request_id: str) -> str:
    """S3's ``x-amz-id-2`` (``HostId``) for a request id: base64 text, as S3 sends."""
    return base64.b64encode(hashlib.sha256(request_id.encode()).digest()).decode()


def _s3_wire(
    model: OperationModel, error: DecouplingError, request_id: str
) -> tuple[dict[str, str], bytes]:
    request_id = request_id.replace("-", "")[-16:].upper()
    host_id = s3_host_id(request_id)
    headers = {
        "x-amz-request-id": request_id,
        "x-amz-id-2": host_id,
        "content-type": "application/xml",
        "server": "AmazonS3",
    }
    if model.http.get("method") == "HEAD" or error.status == 304:
        # A HEAD answer has no body: botocore reports the HTTP status as the code ("404").
        return headers, b""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(error.code)}</Code><Message>{escape(error.message)}</Message>"
        f"<RequestId>{request_id}</RequestId><HostId>{host_id}</HostId></Error>"
    ).encode()
    return headers, body


_WIRES = {"sqs": _sqs_wire, "sns": _sns_wire, "lambda": _lambda_wire, "s3": _s3_wire,
          "logs": _logs_wire}


def render(
    service: str, model: OperationModel, error: DecouplingError, request_id: str, date: str
) -> tuple[AWSResponse, dict[str, Any]]:
    """The ``(http_response, parsed_response)`` pair botocore would produce for ``error``.

    The HTTP status is ``error.status``. Mirrors what botocore's endpoint does after a real
    error response: parse with the protocol's parser, then add the error shape's modeled
    members when ``Error.Code`` names a modeled error.
    """
    headers, body = _WIRES[service](model, error, request_id)
    headers["date"] = date
    headers["content-length"] = str(len(body))
    status = error.status
    if service == "logs" and status < 500:
        status = 400  # CloudWatch Logs answers its client errors with 400 (not found too)
    http = AWSResponse(model.service_model.endpoint_prefix, status, headers, None)
    http._content = body
    response_dict = {
        "headers": http.headers,
        "status_code": status,
        "body": body,
        "context": {"operation_name": model.name},
    }
    parser = _parser(model.service_model.resolved_protocol)
    parsed: dict[str, Any] = parser.parse(response_dict, model.output_shape)
    code = parsed.get("Error", {}).get("Code")
    if code is not None:
        error_shape = model.service_model.shape_for_error_code(code)
        if error_shape is not None:
            parsed.update(parser.parse(response_dict, error_shape))
    parsed.setdefault("ResponseMetadata", {})["RetryAttempts"] = 0
    return http, parsed
