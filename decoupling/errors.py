"""The exception hierarchy: one class per AWS error code.

Every error the library raises is a :class:`DecouplingError`. Each subclass knows the AWS error
code it stands for (``.code``), the HTTP status AWS answers with (``.status``), and whether the
fault is the caller's (``.sender_fault``). The message says what was wrong and what is allowed.

A call that raises changes nothing: validation happens before any state is touched.

Codes follow the SQS, SNS and Lambda API references:
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/CommonErrors.html
https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html
https://docs.aws.amazon.com/lambda/latest/api/CommonErrors.html
https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html (S3: the messages are
S3's own ``<Message>`` texts)
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "DecouplingError",
    # SQS
    "QueueDoesNotExist",
    "QueueAlreadyExists",
    "QueueDeletedRecently",
    "InvalidAttributeName",
    "InvalidAttributeValue",
    "InvalidMessageContents",
    "InvalidParameterValue",
    "MissingParameter",
    "ReceiptHandleIsInvalid",
    "MessageNotInflight",
    "EmptyBatchRequest",
    "TooManyEntriesInBatchRequest",
    "BatchEntryIdsNotDistinct",
    "InvalidBatchEntryId",
    "BatchRequestTooLong",
    "PurgeQueueInProgress",
    "OverLimit",
    "UnsupportedOperation",
    "ResourceNotFoundException",
    "InvalidAddress",
    # SNS
    "InvalidParameter",
    "NotFound",
    "FilterPolicyLimitExceeded",
    "SubscriptionLimitExceeded",
    "AuthorizationError",
    "ParameterValueInvalid",
    "EndpointDisabled",
    "PlatformApplicationDisabled",
    "ResourceNotFound",
    "OptedOut",
    "UserError",
    "VerificationException",
    "ValidationError",
    "TagLimitExceeded",
    # Lambda
    "InvalidParameterValueException",
    "ResourceConflictException",
    "TooManyRequestsException",
    "RequestTooLargeException",
    "InvalidRequestContentException",
    "ValidationException",
    "PreconditionFailedException",
    "AccessDeniedException",
    "ProvisionedConcurrencyConfigNotFoundException",
    # S3
    "NoSuchBucket",
    "BucketAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketNotEmpty",
    "AccessDenied",
    "InvalidBucketName",
    "NoSuchKey",
    "NoSuchVersion",
    "KeyTooLongError",
    "MetadataTooLarge",
    "InvalidRange",
    "InvalidArgument",
    "InvalidRequest",
    "MalformedXML",
    "MethodNotAllowed",
    "PreconditionFailed",
    "NoSuchUpload",
    "InvalidPart",
    "InvalidPartOrder",
    "EntityTooSmall",
    "InvalidTag",
    "BadRequest",
    "BadDigest",
    "InvalidDigest",
    "NotModified",
    "NoSuchTagSet",
    "IllegalLocationConstraintException",
    "ObjectLockConfigurationNotFoundError",
    # CloudWatch Logs
    "InvalidParameterException",
    "error_for_code",
]


class DecouplingError(Exception):
    """Base of every error raised by ``decoupling``.

    Attributes:
        code: the AWS error code, e.g. ``"QueueDoesNotExist"``.
        status: the HTTP status AWS answers with (400 unless stated).
        sender_fault: ``True`` when the caller's request was at fault.
        message: the human-readable message.
    """

    code: ClassVar[str] = "InternalError"
    status: ClassVar[int] = 400
    sender_fault: ClassVar[bool] = True
    #: The code AWS's query (XML) protocol uses, where it differs from ``code``.
    query_code: ClassVar[str | None] = None

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


# --- SQS ---------------------------------------------------------------------------------------


class QueueDoesNotExist(DecouplingError):
    """The named queue does not exist (or was deleted)."""

    code = "QueueDoesNotExist"
    query_code = "AWS.SimpleQueueService.NonExistentQueue"


class QueueAlreadyExists(DecouplingError):
    """A queue of that name exists with different attributes."""

    code = "QueueAlreadyExists"
    query_code = "QueueAlreadyExists"


class QueueDeletedRecently(DecouplingError):
    """A queue of that name was deleted less than 60 seconds ago."""

    code = "QueueDeletedRecently"
    query_code = "AWS.SimpleQueueService.QueueDeletedRecently"


class InvalidAttributeName(DecouplingError):
    """An attribute name is not one the resource knows."""

    code = "InvalidAttributeName"


class InvalidAttributeValue(DecouplingError):
    """An attribute value is out of range or malformed."""

    code = "InvalidAttributeValue"


class InvalidMessageContents(DecouplingError):
    """A message body holds characters outside the allowed set."""

    code = "InvalidMessageContents"


class InvalidParameterValue(DecouplingError):
    """A parameter value is out of range or malformed (SQS)."""

    code = "InvalidParameterValue"


class MissingParameter(DecouplingError):
    """A required parameter is missing."""

    code = "MissingParameter"


class ReceiptHandleIsInvalid(DecouplingError):
    """A receipt handle is malformed or belongs to no message of this queue."""

    code = "ReceiptHandleIsInvalid"


class MessageNotInflight(DecouplingError):
    """The message is not in flight (its visibility timeout ended or it was never received)."""

    code = "MessageNotInflight"
    query_code = "AWS.SimpleQueueService.MessageNotInflight"


class EmptyBatchRequest(DecouplingError):
    """A batch call carried no entries."""

    code = "EmptyBatchRequest"
    query_code = "AWS.SimpleQueueService.EmptyBatchRequest"


class TooManyEntriesInBatchRequest(DecouplingError):
    """A batch call carried more than 10 entries."""

    code = "TooManyEntriesInBatchRequest"
    query_code = "AWS.SimpleQueueService.TooManyEntriesInBatchRequest"


class BatchEntryIdsNotDistinct(DecouplingError):
    """Two entries of a batch share an ``Id``."""

    code = "BatchEntryIdsNotDistinct"
    query_code = "AWS.SimpleQueueService.BatchEntryIdsNotDistinct"


class InvalidBatchEntryId(DecouplingError):
    """A batch entry ``Id`` is not 1-80 characters of ``A-Za-z0-9-_``."""

    code = "InvalidBatchEntryId"
    query_code = "AWS.SimpleQueueService.InvalidBatchEntryId"


class BatchRequestTooLong(DecouplingError):
    """The entries of a batch together exceed the maximum message size."""

    code = "BatchRequestTooLong"
    query_code = "AWS.SimpleQueueService.BatchRequestTooLong"


class PurgeQueueInProgress(DecouplingError):
    """The queue was purged less than 60 seconds ago."""

    code = "PurgeQueueInProgress"
    status = 403
    query_code = "AWS.SimpleQueueService.PurgeQueueInProgress"


class OverLimit(DecouplingError):
    """A limit was reached, e.g. 120,000 messages in flight on a standard queue."""

    code = "OverLimit"
    status = 403


class UnsupportedOperation(DecouplingError):
    """The operation does not apply to this kind of resource."""

    code = "UnsupportedOperation"
    query_code = "AWS.SimpleQueueService.UnsupportedOperation"


class ResourceNotFoundException(DecouplingError):
    """A resource (message move task, function, event source mapping) does not exist."""

    code = "ResourceNotFoundException"
    status = 404


class InvalidAddress(DecouplingError):
    """A queue URL or ARN is malformed."""

    code = "InvalidAddress"
    status = 404


class ServiceUnavailable(DecouplingError):
    """The request failed for a reason of the service, not of the request: here, a durable
    store that could not be opened or could not record a change (disk full, I/O error, locked
    by another process past the busy timeout). Retrying later may succeed.

    Not in ``__all__``, whose sections list the errors each service's API answers with."""

    code = "ServiceUnavailable"
    status = 503
    sender_fault = False


# --- SNS ---------------------------------------------------------------------------------------


class InvalidParameter(DecouplingError):
    """A parameter is out of range or malformed (SNS)."""

    code = "InvalidParameter"


class NotFound(DecouplingError):
    """The topic or subscription does not exist."""

    code = "NotFound"
    status = 404


class FilterPolicyLimitExceeded(DecouplingError):
    """The topic already has the maximum number of filter policies (200)."""

    code = "FilterPolicyLimitExceeded"
    status = 403


class SubscriptionLimitExceeded(DecouplingError):
    """The topic already has the maximum number of subscriptions."""

    code = "SubscriptionLimitExceeded"
    status = 403


class AuthorizationError(DecouplingError):
    """The caller may not do this (e.g. confirm with a wrong token)."""

    code = "AuthorizationError"
    status = 403


class ParameterValueInvalid(DecouplingError):
    """A publish message attribute is malformed (SNS answers with this code, not
    ``InvalidParameterValue``)."""

    code = "ParameterValueInvalid"


class EndpointDisabled(DecouplingError):
    """A publish to a mobile push endpoint whose ``Enabled`` attribute is ``false``."""

    code = "EndpointDisabled"


class PlatformApplicationDisabled(DecouplingError):
    """A publish through a platform application whose ``Enabled`` attribute is ``false``."""

    code = "PlatformApplicationDisabled"


class ResourceNotFound(DecouplingError):
    """SNS: the resource a tag or SMS-sandbox call names does not exist (``TagResource``,
    ``ListTagsForResource``, ``VerifySMSSandboxPhoneNumber``, ...)."""

    code = "ResourceNotFound"
    status = 404


class OptedOut(DecouplingError):
    """The phone number has opted out of receiving SMS from this account."""

    code = "OptedOut"


class UserError(DecouplingError):
    """SNS: a request the account's state does not allow (e.g. a sandbox phone number that
    cannot be deleted yet)."""

    code = "UserError"


class VerificationException(DecouplingError):
    """The one-time password given to ``VerifySMSSandboxPhoneNumber`` is wrong."""

    code = "VerificationException"


# --- Lambda ------------------------------------------------------------------------------------


class ValidationError(DecouplingError):
    """SNS: a required member is missing (``"1 validation error detected: Value null at
    'attributes' failed to satisfy constraint: Member must not be null"``)."""

    code = "ValidationError"


class TagLimitExceeded(DecouplingError):
    """SNS: a topic would have more than 50 tags."""

    code = "TagLimitExceeded"


class InvalidParameterValueException(DecouplingError):
    """A parameter is out of range or malformed (Lambda)."""

    code = "InvalidParameterValueException"


class ResourceConflictException(DecouplingError):
    """The resource exists already or is in use."""

    code = "ResourceConflictException"
    status = 409


class TooManyRequestsException(DecouplingError):
    """Concurrency limit reached: the invocation was throttled."""

    code = "TooManyRequestsException"
    status = 429


class RequestTooLargeException(DecouplingError):
    """The invocation payload is over the limit (6 MB sync, 1 MB async)."""

    code = "RequestTooLargeException"
    status = 413


class InvalidRequestContentException(DecouplingError):
    """The request body is not valid JSON."""

    code = "InvalidRequestContentException"


class ValidationException(DecouplingError):
    """A schedule expression or other request field failed validation (EventBridge)."""

    code = "ValidationException"


class PreconditionFailedException(DecouplingError):
    """A ``RevisionId`` given with a Lambda request does not match the resource's (412)."""

    code = "PreconditionFailedException"
    status = 412


class AccessDeniedException(DecouplingError):
    """The caller may not do this (Lambda): another account's role, or a resource policy
    that does not allow the invoker."""

    code = "AccessDeniedException"
    status = 403


class ProvisionedConcurrencyConfigNotFoundException(DecouplingError):
    """The function version or alias has no provisioned concurrency configuration."""

    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


# --- S3 ----------------------------------------------------------------------------------------


class NoSuchBucket(DecouplingError):
    """The bucket does not exist (or was deleted)."""

    code = "NoSuchBucket"
    status = 404


class BucketAlreadyExists(DecouplingError):
    """Another account owns a bucket of that name (bucket names are global)."""

    code = "BucketAlreadyExists"
    status = 409


class AccessDenied(DecouplingError):
    """The resource belongs to another account (S3)."""

    code = "AccessDenied"
    status = 403


class BucketAlreadyOwnedByYou(DecouplingError):
    """A bucket of that name exists in this account already."""

    code = "BucketAlreadyOwnedByYou"
    status = 409


class BucketNotEmpty(DecouplingError):
    """The bucket still holds objects (or object versions) and cannot be deleted."""

    code = "BucketNotEmpty"
    status = 409


class InvalidBucketName(DecouplingError):
    """The bucket name breaks S3's naming rules."""

    code = "InvalidBucketName"


class NoSuchKey(DecouplingError):
    """No object has that key (or its current version is a delete marker)."""

    code = "NoSuchKey"
    status = 404


class NoSuchVersion(DecouplingError):
    """No version of the object has that version id."""

    code = "NoSuchVersion"
    status = 404


class KeyTooLongError(DecouplingError):
    """The object key is over 1024 bytes in UTF-8."""

    code = "KeyTooLongError"


class MetadataTooLarge(DecouplingError):
    """The user metadata is over 2 KB (names and values, in UTF-8)."""

    code = "MetadataTooLarge"


class InvalidRange(DecouplingError):
    """The requested byte range starts past the object's end."""

    code = "InvalidRange"
    status = 416


class InvalidArgument(DecouplingError):
    """An argument is out of range or malformed (S3)."""

    code = "InvalidArgument"


class InvalidRequest(DecouplingError):
    """The request is not allowed as made (e.g. copying an object onto itself unchanged)."""

    code = "InvalidRequest"


class MalformedXML(DecouplingError):
    """A structured argument (a parts list, a configuration) does not have the required shape."""

    code = "MalformedXML"


class MethodNotAllowed(DecouplingError):
    """The operation does not apply to the target (e.g. reading a delete marker)."""

    code = "MethodNotAllowed"
    status = 405


class PreconditionFailed(DecouplingError):
    """A condition (``if_match``, ``if_none_match``) did not hold."""

    code = "PreconditionFailed"
    status = 412


class NoSuchUpload(DecouplingError):
    """The multipart upload does not exist (never did, or was completed or aborted)."""

    code = "NoSuchUpload"
    status = 404


class InvalidPart(DecouplingError):
    """A listed part was not uploaded, or its ETag does not match the uploaded part's."""

    code = "InvalidPart"


class InvalidPartOrder(DecouplingError):
    """The parts list is not in ascending part-number order."""

    code = "InvalidPartOrder"


class EntityTooSmall(DecouplingError):
    """A part other than the last is smaller than 5 MiB."""

    code = "EntityTooSmall"


class InvalidTag(DecouplingError):
    """A tag breaks S3's rules: a key over 128 or a value over 256 characters, a repeated
    key, or a key starting with ``aws:``."""

    code = "InvalidTag"


class NotModified(DecouplingError):
    """A conditional read's ``If-None-Match`` / ``If-Modified-Since`` held: HTTP 304, no
    body."""

    code = "NotModified"
    status = 304


class BadDigest(DecouplingError):
    """The body's MD5 is not the ``Content-MD5`` the request gave."""

    code = "BadDigest"


class InvalidDigest(DecouplingError):
    """The ``Content-MD5`` given is not the base64 of 16 bytes."""

    code = "InvalidDigest"


class BadRequest(DecouplingError):
    """S3's generic refusal of a request as made (e.g. more than 10 tags on an object)."""

    code = "BadRequest"


class NoSuchTagSet(DecouplingError):
    """The bucket has no tags (GetBucketTagging)."""

    code = "NoSuchTagSet"
    status = 404


class IllegalLocationConstraintException(DecouplingError):
    """CreateBucket's location constraint does not match the region the request went to."""

    code = "IllegalLocationConstraintException"


class ObjectLockConfigurationNotFoundError(DecouplingError):
    """The bucket has no Object Lock configuration (GetObjectLockConfiguration)."""

    code = "ObjectLockConfigurationNotFoundError"
    status = 404


# --- CloudWatch Logs ----------------------------------------------------------------------------


class InvalidParameterException(DecouplingError):
    """CloudWatch Logs: a parameter is specified incorrectly (a bad token, filter pattern or
    combination of parameters)."""

    code = "InvalidParameterException"


def _all_error_classes() -> dict[str, type[DecouplingError]]:
    found: dict[str, type[DecouplingError]] = {}
    pending: list[type[DecouplingError]] = [DecouplingError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_for_code(code: str) -> type[DecouplingError]:
    """Return the error class for an AWS error code (``DecouplingError`` if unknown)."""
    return _all_error_classes().get(code, DecouplingError)
