"""Mobile push: platform applications and their endpoints (devices), as SNS has them.

A :class:`PlatformApplication` stands for an app registered with a push service (``GCM`` for
Firebase Cloud Messaging, ``APNS``, ``ADM``, ...); a :class:`PlatformEndpoint` for one device of
it (its push ``Token``). Publishing to an endpoint — directly (``Publish`` with ``TargetArn``,
:meth:`PlatformEndpoint.publish`) or through a topic it is subscribed to (protocol
``application`` with the endpoint's ARN) — hands one :class:`PushMessage` per message to the
loop's push transport, ``EventLoop(push=transport)``, a callable the app plugs its provider
into; without one, messages land in the application's :attr:`PlatformApplication.outbox`.

The transport call runs like an ``application`` subscription's callable: on a
:class:`~decoupling.ManualClock` from a timer due now, in the thread that advances time; on a
real clock on the loop's SNS worker pool; never under the loop's lock. Returning is a delivery.
Raising :class:`~decoupling.sns.delivery.ClientDeliveryError` is a permanent failure (the push
service says the token is no longer valid): SNS then sets the endpoint's ``Enabled`` to
``false`` and does not retry. Raising anything else is retried along SNS's policy for
customer-managed endpoints (50 retries over about 6 hours), then the message goes to the
subscription's dead-letter queue (a direct publish has none: it is dropped and logged).

Application events: an application whose ``EventEndpointCreated``, ``EventEndpointDeleted``,
``EventEndpointUpdated`` or ``EventDeliveryFailure`` attribute names a topic of the loop gets a
JSON event published there when an endpoint is created (not when ``CreatePlatformEndpoint``
returns an existing one), deleted (also by deleting the application), has an attribute changed
(``SetEndpointAttributes`` changing a value, or SNS disabling it after a permanent failure), or
a direct publish to one of its endpoints fails for good (``SetPlatformApplicationAttributes``
in the SNS API reference; the Developer Guide's "Mobile app events"). The event is a JSON
object whose fields, sorted by name as in SNS's sample event messages (the API reference does
not list them), are ``EndpointArn``, ``EventType`` (``EndpointCreated``, ...), ``Resource``
(the application's ARN), ``Service`` (``"SNS"``), ``Time``; a ``DeliveryFailure`` adds
``DeliveryAttempts``, ``FailureMessage``, ``FailureType`` (``EndpointDisabled`` "Endpoint is
disabled", or ``InvalidPlatformToken`` "Platform token associated with the endpoint is not
valid" when the transport raised :class:`~decoupling.sns.delivery.ClientDeliveryError`) and
``MessageId``. An event whose topic does not exist (or refuses it) is dropped and logged.

Rules: the SNS API reference (``CreatePlatformApplication``, ``CreatePlatformEndpoint``,
``Get/SetEndpointAttributes``, ``Publish``) and the Developer Guide's "Mobile push
notifications" chapter (endpoint disabling, platform-specific payloads with
``MessageStructure="json"``). ``GetPlatformApplicationAttributes`` does not return the
credentials (``PlatformCredential``, ``PlatformPrincipal``) and always has ``Enabled``, as the
API reference's example shows.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from ..errors import (
    DecouplingError,
    EndpointDisabled,
    InvalidParameter,
    NotFound,
    PlatformApplicationDisabled,
    ValidationError,
)
from ..loop import EventLoop
from ..message import MessageAttributeValue
from .delivery import OUTBOX_LIMIT, ClientDeliveryError, DirectDelivery
from .message import (
    check_message,
    iso_timestamp,
    message_size,
    normalize_sns_attributes,
    parse_structure,
)
from .policy import CUSTOMER_RETRY
from .subscribe import DEFAULT_MAX_SIZE

if TYPE_CHECKING:
    from .message import Notification
    from .subscription import Subscription

__all__ = ["PlatformApplication", "PlatformEndpoint", "PushMessage", "PushTransport", "PLATFORMS"]

#: Platforms ``CreatePlatformApplication`` takes (and the ``MessageStructure="json"`` keys a
#: publish to their endpoints reads): "Sending custom platform-specific payloads to mobile
#: devices", SNS Developer Guide.
PLATFORMS = frozenset({
    "ADM", "APNS", "APNS_SANDBOX", "APNS_VOIP", "APNS_VOIP_SANDBOX", "BAIDU", "GCM", "MACOS",
    "MACOS_SANDBOX", "MPNS", "WNS",
})
_APP_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}")
#: Attributes ``SetPlatformApplicationAttributes`` takes (API reference), plus ``Enabled``.
_APP_ATTRIBUTES = frozenset({
    "PlatformCredential", "PlatformPrincipal", "EventEndpointCreated", "EventEndpointDeleted",
    "EventEndpointUpdated", "EventDeliveryFailure", "SuccessFeedbackRoleArn",
    "FailureFeedbackRoleArn", "SuccessFeedbackSampleRate", "ApplePlatformTeamID",
    "ApplePlatformBundleID", "Enabled",
})
#: Application attributes never returned (credentials).
_SECRET = frozenset({"PlatformCredential", "PlatformPrincipal"})
#: Platforms whose credential is one value (an API key or service account JSON): the others
#: need ``PlatformPrincipal`` too.
_CREDENTIAL_ONLY = frozenset({"GCM"})
_NULL_ATTRIBUTES = (
    "1 validation error detected: Value null at 'attributes' failed to satisfy constraint: "
    "Member must not be null"
)
_ENDPOINT_ATTRIBUTES = frozenset({"CustomUserData", "Enabled", "Token"})
#: Event type -> the application attribute naming its topic.
_EVENT_TOPICS = {
    "EndpointCreated": "EventEndpointCreated",
    "EndpointDeleted": "EventEndpointDeleted",
    "EndpointUpdated": "EventEndpointUpdated",
    "DeliveryFailure": "EventDeliveryFailure",
}
_log = logging.getLogger("decoupling.sns")


class _PushFailed(ClientDeliveryError):
    """A permanent push failure, with the ``FailureType`` a ``DeliveryFailure`` event names."""

    def __init__(self, message: str, failure_type: str) -> None:
        super().__init__(message)
        self.failure_type = failure_type


_ENDPOINT_DISABLED = ("Endpoint is disabled", "EndpointDisabled")
_INVALID_TOKEN = ("Platform token associated with the endpoint is not valid",
                  "InvalidPlatformToken")
#: ``CustomUserData``: "The data must be in UTF-8 format and less than 2KB" (API reference).
MAX_CUSTOM_USER_DATA = 2048


@attrs.frozen
class PushMessage:
    """One push notification to send to one device.

    Attributes:
        endpoint_arn: the :class:`PlatformEndpoint`'s ARN.
        application_arn: its :class:`PlatformApplication`'s ARN.
        platform: ``GCM``, ``APNS``, ... (what the transport talks to).
        token: the device token (the endpoint's ``Token`` attribute).
        payload: the message text for this platform: with ``MessageStructure="json"`` the
            value of the platform's key (``"GCM"``, ``"APNS"``, ...), else ``default``; without,
            the message as published.
        message_id: the SNS ``MessageId`` (the same on every retry).
        message_attributes: the publisher's attributes (e.g. ``AWS.SNS.MOBILE.APNS.PUSH_TYPE``),
            name -> :class:`~decoupling.MessageAttributeValue`.
        custom_user_data: the endpoint's ``CustomUserData`` (``""`` when unset).
        topic_arn, subscription_arn: where it comes from; ``None`` for a direct publish.
        attempt: 1 for the first attempt, 2 for the first retry, ...
    """

    endpoint_arn: str
    application_arn: str
    platform: str
    token: str
    payload: str
    message_id: str
    message_attributes: Mapping[str, MessageAttributeValue]
    custom_user_data: str
    topic_arn: str | None
    subscription_arn: str | None
    attempt: int


#: What ``EventLoop(push=...)`` takes: a callable sending one :class:`PushMessage` (see the
#: module documentation for what returning and raising mean).
PushTransport = Callable[[PushMessage], None]


def _bool_text(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower()
    raise InvalidParameter(f"Invalid parameter: Attributes Reason: {name} must be true or false")


def _string_map(name: str, value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise InvalidParameter(f"Invalid parameter: {name} must be a mapping of names to values")
    return dict(value)


class PlatformApplication:
    """A mobile app registered with a push notification service (``CreatePlatformApplication``).

    Args:
        loop: the :class:`~decoupling.EventLoop` (account) it belongs to.
        name: 1-256 characters of ``A-Za-z0-9_-.``.
        platform: one of :data:`PLATFORMS` (``"GCM"`` for Firebase Cloud Messaging, ``"APNS"``,
            ...).
        attributes: by AWS name (required, as in ``CreatePlatformApplication``):
            ``PlatformCredential``, ``PlatformPrincipal`` (given together, except that
            ``GCM`` takes a credential alone; an application may have neither),
            ``EventEndpointCreated``, ..., ``SuccessFeedbackSampleRate``, ``Enabled``
            (``"true"``/``"false"``, default ``"true"``). Credentials are kept but never
            returned, and never checked (there is no push service to ask).

    Creating an application whose name and platform exist returns the existing object, with
    the attributes given applied.

    Attributes:
        arn: ``arn:<partition>:sns:<region>:<account>:app/<platform>/<name>``.
        outbox: push messages "sent" through this application's endpoints on a loop without a
            push transport, oldest first (the newest 1,000 are kept).

    Raises:
        InvalidParameter: a bad name, platform or attribute, or a credential without its
            principal (or the reverse).
        ValidationError: ``attributes`` is ``None``.
    """

    _initialized = False

    def __new__(
        cls, loop: EventLoop, name: str, platform: str, attributes: Mapping[str, Any] | None = None
    ) -> PlatformApplication:
        if isinstance(loop, EventLoop) and isinstance(name, str) and isinstance(platform, str):
            existing = loop._lookup("sns-app", loop.arn("sns", f"app/{platform}/{name}"))
            if existing is not None:
                assert isinstance(existing, PlatformApplication)
                return existing
        return super().__new__(cls)

    def __init__(
        self, loop: EventLoop, name: str, platform: str, attributes: Mapping[str, Any] | None = None
    ) -> None:
        if self._initialized:
            if attributes is None:
                raise ValidationError(_NULL_ATTRIBUTES)
            self.set_attributes(attributes)
            return
        if not isinstance(loop, EventLoop):
            raise InvalidParameter(
                "Invalid parameter: PlatformApplication needs an EventLoop as its first argument"
            )
        _check_name(name)
        if platform not in PLATFORMS:
            raise InvalidParameter(f"Invalid parameter: Platform Reason: {platform} is not supported")
        if attributes is None:
            raise ValidationError(_NULL_ATTRIBUTES)
        values = self._validate(attributes)
        credential, principal = "PlatformCredential" in values, "PlatformPrincipal" in values
        if principal and not credential:
            raise InvalidParameter(
                "Invalid parameter: Attributes Reason: PlatformPrincipal attribute provided "
                "without PlatformCredential"
            )
        # Neither credential given: accepted (AWS's recorded refusals are for one without the
        # other, LocalStack's AWS-validated test_create_platform_application_invalid_attributes;
        # none shows an application without both refused), so a test can make one.
        if credential and platform not in _CREDENTIAL_ONLY and not principal:
            raise InvalidParameter(
                "Invalid parameter: Attributes Reason: PlatformCredential attribute provided "
                "without PlatformPrincipal"
            )
        self.loop = loop
        self.name = name
        self.platform = platform
        self.arn = loop.arn("sns", f"app/{platform}/{name}")
        self._attributes: dict[str, str] = {"Enabled": "true"}
        self._endpoints: dict[str, PlatformEndpoint] = {}
        self._tokens: dict[str, PlatformEndpoint] = {}
        self.outbox: list[PushMessage] = []
        self._deleted = False
        with loop._lock:
            self._attributes.update(values)
            loop._register("sns-app", self.arn, self)
            self._initialized = True

    @staticmethod
    def _validate(attributes: Mapping[str, Any] | None) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, value in _string_map("Attributes", attributes).items():
            if name not in _APP_ATTRIBUTES:
                raise InvalidParameter(
                    f"Invalid parameter: Attributes Reason: Invalid attribute name: {name}"
                )
            if name == "Enabled":
                out[name] = _bool_text(name, value)
            elif not isinstance(value, str):
                raise InvalidParameter(f"Invalid parameter: Attributes Reason: {name} must be a string")
            else:
                out[name] = value
        return out

    @property
    def enabled(self) -> bool:
        """The ``Enabled`` attribute."""
        return self._attributes.get("Enabled") == "true"

    def get_attributes(self) -> dict[str, str]:
        """The attributes by AWS name (``GetPlatformApplicationAttributes``): credentials are
        left out.

        Raises:
            NotFound: the application was deleted.
        """
        with self.loop._lock:
            self._check_alive()
            return {k: v for k, v in self._attributes.items() if k not in _SECRET}

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Change attributes by AWS name (``SetPlatformApplicationAttributes``); all are checked
        first.

        Raises:
            InvalidParameter: an unknown name or a bad value. NotFound: deleted.
        """
        with self.loop._lock:
            self._check_alive()
            self._attributes.update(self._validate(attributes))

    def create_endpoint(
        self,
        token: str,
        custom_user_data: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> PlatformEndpoint:
        """Register a device (``CreatePlatformEndpoint``).

        Idempotent as AWS documents: asking again with the same token and the same
        ``CustomUserData`` and ``Enabled`` returns the existing endpoint.

        Args:
            token: the device token the push service gave the app (non-empty).
            custom_user_data: up to 2,048 bytes of UTF-8 kept with the endpoint;
                ``attributes["CustomUserData"]``, when given, wins (as SNS does).
            attributes: ``Enabled`` (default ``"true"``), ``CustomUserData``.

        Raises:
            InvalidParameter: a bad value, or the token already has an endpoint with other
                attributes. NotFound: the application was deleted.
        """
        with self.loop._lock:
            self._check_alive()
            if not isinstance(token, str) or not token:
                raise InvalidParameter("Invalid parameter: Token Reason: must be a non-empty string")
            values = _endpoint_attributes(attributes, allow_token=False)
            if custom_user_data is not None and "CustomUserData" not in values:
                values["CustomUserData"] = _custom_user_data(custom_user_data)
            values.setdefault("Enabled", "true")
            existing = self._tokens.get(token)
            if existing is not None:
                same = existing._attributes.get("Enabled") == values["Enabled"] and \
                    existing._attributes.get("CustomUserData", "") == values.get("CustomUserData", "")
                if not same:
                    raise InvalidParameter(
                        f"Invalid parameter: Token Reason: Endpoint {existing.arn} already exists "
                        "with the same Token, but different attributes."
                    )
                return existing
            endpoint = PlatformEndpoint(self, token, values)
            self._endpoints[endpoint.arn] = endpoint
            self._tokens[token] = endpoint
            self.loop._register("sns-endpoint", endpoint.arn, endpoint)
            event = _event(self, "EndpointCreated", endpoint.arn)
        _publish_event(event)
        return endpoint

    def endpoints(self) -> list[PlatformEndpoint]:
        """The application's endpoints, oldest first (``ListEndpointsByPlatformApplication``)."""
        with self.loop._lock:
            self._check_alive()
            return list(self._endpoints.values())

    def delete(self) -> None:
        """Delete the application and its endpoints (``DeletePlatformApplication``;
        deleting twice is not an error)."""
        with self.loop._lock:
            if self._deleted:
                return
            events = [endpoint._delete() for endpoint in list(self._endpoints.values())]
            self._deleted = True
            self.loop._unregister("sns-app", self.arn)
        for event in events:
            _publish_event(event)

    def _check_alive(self) -> None:
        if self._deleted:
            raise NotFound("PlatformApplication does not exist")

    def __repr__(self) -> str:
        return f"PlatformApplication({self.platform}/{self.name})"


_Event = tuple[EventLoop, str, str]  # loop, topic ARN, event JSON


def _event(
    app: PlatformApplication, event_type: str, endpoint_arn: str, **extra: object
) -> _Event | None:
    """The application event to publish, or ``None`` when the application names no topic for
    it (lock held; publish it with :func:`_publish_event` once the lock is released)."""
    topic_arn = app._attributes.get(_EVENT_TOPICS[event_type])
    if not topic_arn:
        return None
    body = {
        "EndpointArn": endpoint_arn, "EventType": event_type, "Resource": app.arn,
        "Service": "SNS", "Time": iso_timestamp(app.loop.clock.wall_ms()), **extra,
    }
    return app.loop, topic_arn, json.dumps(dict(sorted(body.items())), separators=(",", ":"))


def _publish_event(event: _Event | None) -> None:
    """Publish an application event to its topic (no lock held); a topic that does not exist
    or refuses the message drops it, logged."""
    if event is None:
        return
    loop, topic_arn, text = event
    topic = loop._lookup("sns", topic_arn.rpartition(":")[2])
    if topic is None or topic.arn != topic_arn:
        _log.warning("SNS application event to %s dropped: no such topic", topic_arn)
        return
    try:
        topic.publish(text)
    except DecouplingError as error:
        _log.warning("SNS application event to %s dropped: %s", topic_arn, error)


def _custom_user_data(value: object) -> str:
    if not isinstance(value, str) or len(value.encode("utf-8", "surrogatepass")) > MAX_CUSTOM_USER_DATA:
        raise InvalidParameter(
            "Invalid parameter: Attributes Reason: Invalid value for attribute: CustomUserData: "
            f"must be at most {MAX_CUSTOM_USER_DATA} bytes long in UTF-8 encoding"
        )
    return value


def _check_name(name: object) -> None:
    if not isinstance(name, str):
        raise InvalidParameter(f"Invalid parameter: Name Reason: must be a string, got {name!r}")
    if not name:
        raise InvalidParameter("Invalid parameter:  Reason: cannot be empty")
    if len(name) > 256:
        raise InvalidParameter(f"Invalid parameter: {name} Reason: must be at most 256 characters long")
    if not _APP_NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid parameter: {name} Reason: must contain only characters 'a'-'z', 'A'-'Z', "
            "'0'-'9', '_', '-', and '.'"
        )


def _endpoint_attributes(attributes: Mapping[str, Any] | None, allow_token: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in _string_map("Attributes", attributes).items():
        if name not in _ENDPOINT_ATTRIBUTES or (name == "Token" and not allow_token):
            raise InvalidParameter(
                f"Invalid parameter: Attributes Reason: Invalid attribute name: {name}"
            )
        if name == "Enabled":
            out[name] = _bool_text(name, value)
        elif name == "CustomUserData":
            out[name] = _custom_user_data(value)
        elif not isinstance(value, str) or not value:
            raise InvalidParameter("Invalid parameter: Token Reason: must be a non-empty string")
        else:
            out[name] = value
    return out


class PlatformEndpoint:
    """One device of a :class:`PlatformApplication` (create with
    :meth:`PlatformApplication.create_endpoint`).

    Attributes:
        application: its application.
        arn: ``arn:<partition>:sns:<region>:<account>:endpoint/<platform>/<application>/<id>``.
        delivered: push messages the transport accepted (or the outbox took).
        undeliverable: push messages that failed for good.
    """

    def __init__(self, application: PlatformApplication, token: str, values: dict[str, str]) -> None:
        self.application = application
        self.loop = application.loop
        self.arn = application.loop.arn(
            "sns", f"endpoint/{application.platform}/{application.name}/{uuid.uuid4()}"
        )
        self._attributes = {"Token": token, **values}
        self._deleted = False
        self.delivered = 0
        self.undeliverable = 0

    @property
    def token(self) -> str:
        """The device token (``Token``)."""
        return self._attributes["Token"]

    @property
    def enabled(self) -> bool:
        """The ``Enabled`` attribute (``False`` after a permanent delivery failure)."""
        return self._attributes.get("Enabled") == "true"

    def get_attributes(self) -> dict[str, str]:
        """``Token``, ``Enabled`` and ``CustomUserData`` (when set) (``GetEndpointAttributes``).

        Raises:
            NotFound: the endpoint was deleted.
        """
        with self.loop._lock:
            self._check_alive()
            return dict(self._attributes)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        """Change ``Token``, ``Enabled`` or ``CustomUserData`` (``SetEndpointAttributes``).

        Raises:
            InvalidParameter: an unknown name, a bad value, or a token another endpoint of the
                application has. NotFound: deleted.
        """
        with self.loop._lock:
            self._check_alive()
            values = _endpoint_attributes(attributes, allow_token=True)
            app = self.application
            token = values.get("Token")
            if token is not None and token != self.token:
                other = app._tokens.get(token)
                if other is not None:
                    raise InvalidParameter(
                        f"Invalid parameter: Token Reason: Endpoint {other.arn} already exists "
                        "with the same Token"
                    )
                del app._tokens[self.token]
                app._tokens[token] = self
            changed = any(self._attributes.get(k) != v for k, v in values.items())
            self._attributes.update(values)
            event = _event(app, "EndpointUpdated", self.arn) if changed else None
        _publish_event(event)

    def delete(self) -> None:
        """Delete the endpoint (``DeleteEndpoint``; deleting twice is not an error)."""
        with self.loop._lock:
            event = self._delete()
        _publish_event(event)

    def _delete(self) -> _Event | None:
        """Delete (lock held); return the ``EndpointDeleted`` event to publish."""
        if self._deleted:
            return None
        self._deleted = True
        app = self.application
        app._endpoints.pop(self.arn, None)
        if app._tokens.get(self.token) is self:
            del app._tokens[self.token]
        self.loop._unregister("sns-endpoint", self.arn)
        return _event(app, "EndpointDeleted", self.arn)

    def _check_alive(self) -> None:
        if self._deleted:
            raise NotFound("Endpoint does not exist")

    # -- publishing -----------------------------------------------------------------------------

    def publish(
        self,
        message: str,
        *,
        message_structure: str | None = None,
        message_attributes: Mapping[str, Any] | None = None,
    ) -> str:
        """Send one push notification to this device (``Publish`` with ``TargetArn``); return
        its ``MessageId``.

        Args:
            message: the text, or with ``message_structure="json"`` a JSON object with a
                ``default`` key and optional per-platform keys (``"GCM"``, ``"APNS"``, ...).
            message_structure: ``"json"`` or ``None``.
            message_attributes: as :meth:`Topic.publish` takes them (any number: the limit of
                10 is SQS's).

        Raises:
            EndpointDisabled: ``Enabled`` is ``false`` (checked first, as SNS does).
            PlatformApplicationDisabled: the application's ``Enabled`` is ``false``.
            NotFound: the endpoint was deleted. InvalidParameter, ParameterValueInvalid: a bad
            message, structure or attribute.
        """
        with self.loop._lock:
            self._check_alive()
            if not self.enabled:
                raise EndpointDisabled("Endpoint is disabled")
            if not self.application.enabled:
                raise PlatformApplicationDisabled("Platform application is disabled")
            text = check_message(message)
            structure = parse_structure(text, message_structure)
            attributes = normalize_sns_attributes(message_attributes)
            if message_size(text, attributes) > DEFAULT_MAX_SIZE:
                raise InvalidParameter("Invalid parameter: Message too long")
            payload = text if structure is None else structure.get(
                self.application.platform, structure["default"]
            )
            message_id = str(uuid.uuid4())
            push = self._message(payload, message_id, attributes or {}, None, None, 1)
            if self.loop.push is None:
                self._to_outbox(push)
            else:
                DirectDelivery(self.loop, self, lambda n: self._attempt(push, n),
                               f"push {message_id} to {self.arn}",
                               failed=lambda n, error: self._failed(message_id, n, error)
                               ).schedule()
            return message_id

    def _attempt(self, push: PushMessage, attempt: int) -> None:
        if self._deleted:
            raise ClientDeliveryError("Endpoint does not exist")
        if not self.enabled:
            raise _PushFailed(*_ENDPOINT_DISABLED)
        self._send(attrs.evolve(push, attempt=attempt))

    def _failed(self, message_id: str, attempts: int, error: ClientDeliveryError) -> None:
        """A direct publish failed for good (no lock held): the ``DeliveryFailure`` event."""
        failure_type = getattr(error, "failure_type", None)
        if failure_type is None:  # the endpoint was deleted: no application event
            return
        with self.loop._lock:
            if self.application._deleted:
                return
            event = _event(
                self.application, "DeliveryFailure", self.arn, DeliveryAttempts=attempts,
                FailureMessage=str(error), FailureType=failure_type, MessageId=message_id,
            )
        _publish_event(event)

    def _message(
        self,
        payload: str,
        message_id: str,
        attributes: Mapping[str, MessageAttributeValue],
        topic_arn: str | None,
        subscription_arn: str | None,
        attempt: int,
    ) -> PushMessage:
        app = self.application
        return PushMessage(
            self.arn, app.arn, app.platform, self.token, payload, message_id, attributes,
            self._attributes.get("CustomUserData", ""), topic_arn, subscription_arn, attempt,
        )

    def _to_outbox(self, push: PushMessage) -> None:
        outbox = self.application.outbox
        outbox.append(push)
        if len(outbox) > OUTBOX_LIMIT:
            del outbox[: len(outbox) - OUTBOX_LIMIT]
        self.delivered += 1

    def _send(self, push: PushMessage) -> None:
        """One attempt through the loop's transport (no lock held). A permanent failure
        disables the endpoint, as SNS does."""
        transport = self.loop.push
        if transport is None:
            with self.loop._lock:
                self._to_outbox(push)
            return
        try:
            transport(push)
        except ClientDeliveryError as error:
            with self.loop._lock:
                was_enabled = self._attributes.get("Enabled") == "true"
                self._attributes["Enabled"] = "false"
                self.undeliverable += 1
                event = None
                if was_enabled and not self._deleted:
                    event = _event(self.application, "EndpointUpdated", self.arn)
            _publish_event(event)
            raise _PushFailed(*_INVALID_TOKEN) from error
        except Exception:
            if push.subscription_arn is None and push.attempt > CUSTOMER_RETRY.num_retries:
                with self.loop._lock:
                    self.undeliverable += 1
            raise
        with self.loop._lock:
            self.delivered += 1

    def _push_notification(self, sub: Subscription, n: Notification) -> None:
        """Deliver a topic's notification to this device (an ``application`` subscription
        whose endpoint is this endpoint's ARN; no lock held)."""
        with self.loop._lock:
            if self._deleted:
                raise ClientDeliveryError("Endpoint does not exist")
            if not self.enabled:
                raise ClientDeliveryError("Endpoint is disabled")
            if not self.application.enabled:
                raise ClientDeliveryError("Platform application is disabled")
            pub = n._pub
            push = self._message(
                pub.message_for(self.application.platform), n.message_id, pub.attributes or {},
                n.topic_arn, n.subscription_arn, n.attempt,
            )
        self._send(push)

    def __repr__(self) -> str:
        return f"PlatformEndpoint({self.arn!r})"


def _check_arn(param: str, arn: object, slashes: int) -> str:
    if not isinstance(arn, str):
        raise InvalidParameter(f"Invalid parameter: {param} Reason: must be a string")
    parts = arn.split(":", 5)
    if len(parts) < 6:
        raise InvalidParameter(
            f"Invalid parameter: {param} Reason: An ARN must have at least 6 elements, not "
            f"{len(parts)}"
        )
    if parts[5].count("/") != slashes:
        raise InvalidParameter(
            f"Invalid parameter: {param} Reason: Wrong number of slashes in relative portion of "
            "the ARN."
        )
    return arn


def application(loop: EventLoop, arn: str) -> PlatformApplication:
    """The loop's application with this ARN.

    Raises:
        InvalidParameter: not an application ARN. NotFound: no such application.
    """
    found = loop._lookup("sns-app", _check_arn("PlatformApplicationArn", arn, 2))
    if not isinstance(found, PlatformApplication):
        raise NotFound("PlatformApplication does not exist")
    return found


def endpoint(loop: EventLoop, arn: str) -> PlatformEndpoint:
    """The loop's endpoint with this ARN.

    Raises:
        InvalidParameter: not an endpoint ARN. NotFound: no such endpoint.
    """
    found = loop._lookup("sns-endpoint", _check_arn("EndpointArn", arn, 3))
    if not isinstance(found, PlatformEndpoint):
        raise NotFound("Endpoint does not exist")
    return found
