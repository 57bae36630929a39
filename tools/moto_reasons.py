"""Why a moto test fails through ``decoupling.boto.serve``: the reasons the differences table
(``docs/moto_differences.md``, written by ``tools/moto_suite.py --doc``) gives.

Keys are test ids or ``fnmatch`` patterns of them (first match wins); a failing test with no
entry is listed as "not examined yet" with its first error line. Each reason starts with its
kind: ``AWS`` (AWS documents or was observed to do otherwise: the source is named),
``moto internals`` (the test reads moto's backends or settings), ``Docker``, ``not built``
(a feature the bridge does not have yet: the issue or branch that builds it).
"""

from __future__ import annotations

SQS_API = "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference"
LAMBDA_API = "https://docs.aws.amazon.com/lambda/latest/api"

_TYPO = (
    'AWS: the test\'s attribute name has a trailing space (`"VisibilityTimeout "`); SQS refuses '
    "an attribute name it does not take with `InvalidAttributeName` \"Unknown Attribute "
    "<name>.\" (CreateQueue's errors, "
    f"{SQS_API}/API_CreateQueue.html; LocalStack's AWS-validated "
    "`test_set_unsupported_attribute_standard` records it for `FifoQueue` on a standard "
    "queue); moto ignores it."
)
_REGIONS = (
    "not built: one `EventLoop` is one region, so a `us-west-1` client gets `us-east-1` URLs "
    '(issue #20, "every region"; branch `signing`).'
)
_INTERNALS_SQS = (
    "moto internals: reads `moto.sqs.models` through `sqs_backends[...]` to check moto's stored "
    "types."
)
_OLD_HANDLE = (
    "AWS: a message received again has a new receipt handle and the old one no longer acts on "
    'it — DeleteMessage: "You must provide the most recently received receipt handle ... '
    f'(otherwise, the request succeeds, but the message will not be deleted)" '
    f"({SQS_API}/API_DeleteMessage.html); ChangeMessageVisibility with it fails "
    f"(`MessageNotInflight`/`ReceiptHandleIsInvalid`, {SQS_API}/API_ChangeMessageVisibility.html). "
    "moto accepts the old handle."
)
_HANDLE_TEXT = (
    "AWS: a receipt handle SQS did not issue is `ReceiptHandleIsInvalid` with the text naming "
    'it — `The input receipt handle "garbage" is not a valid receipt handle.` (LocalStack\'s '
    "AWS-validated `test_delete_message_with_illegal_receipt_handle`, tests/aws/services/sqs/"
    "test_sqs.py; ChangeMessageVisibility's code likewise in its AWS-validated "
    "`test_invalid_receipt_handle_should_return_error_message`); moto answers "
    "`The input receipt handle is invalid.`"
)

REASONS: dict[str, str] = {
    # -- SQS ------------------------------------------------------------------------------------
    "tests/test_sqs/test_sqs.py::test_change_message_visibility": _TYPO,
    "tests/test_sqs/test_sqs.py::test_delete_batch_operation": _TYPO,
    "tests/test_sqs/test_sqs.py::test_delete_message_after_visibility_timeout": _TYPO,
    "tests/test_sqs/test_sqs.py::test_message_becomes_inflight_when_received": _TYPO,
    "tests/test_sqs/test_sqs.py::test_queue_length": _TYPO,
    "tests/test_sqs/test_sqs.py::test_receive_message_with_explicit_visibility_timeout": _TYPO,
    "tests/test_sqs/test_sqs.py::test_create_queues_in_multiple_region": _REGIONS,
    "tests/test_sqs/test_sqs.py::test_get_queue_with_prefix": _REGIONS,
    "tests/test_sqs/test_sqs.py::test_set_attributes_integer_fields_conversion*": _INTERNALS_SQS,
    "tests/test_sqs/test_sqs.py::test_delete_message_using_old_receipt_handle": _OLD_HANDLE,
    "tests/test_sqs/test_sqs.py::test_change_message_visibility_on_old_message": _OLD_HANDLE,
    "tests/test_sqs/test_sqs.py::test_batch_change_message_visibility_on_old_message": _OLD_HANDLE,
    "tests/test_sqs/test_sqs.py::test_change_message_visibility_on_unknown_receipt_handle": (
        _HANDLE_TEXT
    ),
    "tests/test_sqs/test_sqs.py::test_delete_message_errors": _HANDLE_TEXT,
    "tests/test_sqs/test_sqs.py::test_message_retention_period": (
        "AWS: `MessageRetentionPeriod` is 60 to 1,209,600 seconds "
        f"({SQS_API}/API_CreateQueue.html); the test sets 1 and moto accepts it."
    ),
    "tests/test_sqs/test_sqs.py::test_create_queue_with_different_attributes_fail": (
        'AWS: the test creates a standard queue with `FifoQueue` = `"tru"`; SQS takes '
        '`FifoQueue` only for FIFO queues (CreateQueue: "FifoQueue – Designates a queue as '
        f'FIFO", {SQS_API}/API_CreateQueue.html) and answers `InvalidAttributeName` "Unknown '
        'Attribute FifoQueue." otherwise (LocalStack\'s AWS-validated '
        "`test_set_unsupported_attribute_standard`); moto accepts any value."
    ),
    "tests/test_sqs/test_sqs.py::test_get_queue_attributes": (
        "AWS: SQS returns a `RedrivePolicy` as it stores it, compact JSON without spaces "
        '(`{"deadLetterTargetArn":"...","maxReceiveCount":1000}` in the AWS CLI reference\'s '
        "get-queue-attributes example output, https://docs.aws.amazon.com/cli/latest/reference/"
        "sqs/get-queue-attributes.html; aws/aws-cli awscli/examples/sqs/get-queue-attributes.rst); "
        "the test expects the request's `json.dumps` text back, spaces included, as moto "
        "echoes it."
    ),
    "tests/test_sqs/test_sqs.py::test_message_with_invalid_attributes": (
        "AWS: SQS accepts non-ASCII letters in message attribute names (LocalStack's "
        "AWS-validated snapshot of `test_send_message_with_invalid_string_attributes` sends "
        "`attr.1øßä`); moto refuses `öther_encodings`."
    ),
    "tests/test_sqs/test_sqs.py::test_message_delay_is_more_than_15_minutes": (
        "AWS: the entries carry `MessageDeduplicationId` on a standard queue; the parameter "
        '"applies only to FIFO (first-in-first-out) queues" '
        f"({SQS_API}/API_SendMessageBatchRequestEntry.html) and we refuse the entry "
        "(`InvalidParameterValue`, as LocalStack does: \"The request includes a parameter that "
        "is not valid for this queue type.\"), so `id_1` fails too; moto ignores the parameter."
    ),
    "tests/test_sqs/test_sqs.py::test_fifo_queue_send_duplicate_messages_after_deduplication_time_limit": (
        "moto internals: shortens the deduplication interval with moto's "
        "`MOCK_DEDUPLICATION_TIME_IN_SECONDS` setting; SQS's interval is 5 minutes "
        f"({SQS_API}/API_SendMessage.html, `MessageDeduplicationId`)."
    ),
    "tests/test_sqs/test_sqs_integration.py::test_disabled_event_source_mapping_does_not_invoke_lambda": (
        "AWS: `CreateEventSourceMapping` answers `State` `Creating`; the mapping becomes "
        f"`Enabled` or `Disabled` afterwards ({LAMBDA_API}/API_CreateEventSourceMapping.html, "
        "`State`); moto answers `Disabled` at once."
    ),
}

_CONFIG = (
    "moto internals: asks AWS Config, which moto answers from its own SNS backend; topics live "
    "in the served loop, which moto's Config does not read (the bridge serves no Config)."
)
_SNS_TOKEN = (
    "moto internals: expects moto's own `NextToken` format (`str(DEFAULT_PAGE_SIZE)` from "
    "`moto.sns.models`); SNS tokens are opaque "
    "(https://docs.aws.amazon.com/sns/latest/api/API_ListSubscriptions.html, `NextToken`)."
)
REASONS.update(
    {
        # -- SNS --------------------------------------------------------------------------------
        "tests/test_sns/test_publishing.py::test_publish_sms": (
            "moto internals: reads the sent SMS from `sns_backends[...].sms_messages`."
        ),
        "tests/test_sns/test_publishing.py::test_publish_to_http": (
            "moto internals: intercepts the HTTP delivery with moto's `responses_mock` and reads "
            "`sns_backends[...].topics[...].sent_notifications`."
        ),
        "tests/test_sns/test_subscriptions.py::test_subscription_paging": _SNS_TOKEN,
        "tests/test_sns/test_topics.py::test_topic_paging": _SNS_TOKEN,
        "tests/test_sns/test_topics.py::test_list_config_service_resources": _CONFIG,
        "tests/test_sns/test_topics.py::test_get_config_resource": _CONFIG,
    }
)
REASONS.update(
    {
        # -- Lambda -----------------------------------------------------------------------------
        "tests/test_awslambda/test_lambda_layers.py::test_publish_layer_with_unknown_s3_file": (
            "moto internals: turns off moto's S3 check with its `VALIDATE_LAMBDA_S3` setting; "
            "AWS refuses layer content from an S3 object that does not exist."
        ),
        "tests/test_awslambda/test_lambda_invoke.py::test_lambda_request_unauthorized_user": (
            "moto internals: relies on moto's IAM enforcement "
            "(`moto.core.set_initial_no_auth_action_count`); the bridge does not check IAM."
        ),
        "tests/test_awslambda/test_lambda.py::test_put_function_concurrency_*": (
            "moto internals: sets moto's `MOTO_LAMBDA_CONCURRENCY_QUOTA` setting for the "
            "account's concurrency quota."
        ),
    }
)

#: LocalStack's AWS-validated snapshots of SNS (recorded against AWS; read for facts):
#: tests/aws/services/sns/test_sns.snapshot.json in localstack/localstack.
_LS_SNS = "LocalStack's AWS-validated SNS snapshot (tests/aws/services/sns/test_sns.snapshot.json)"
_SNS_AWS = f"AWS ({_LS_SNS}): "
_HTTP_PENDING = (
    "AWS: an HTTP/S subscription stays `PendingConfirmation` until the endpoint confirms it "
    "(https://docs.aws.amazon.com/sns/latest/dg/SendMessageToHttp.confirm.html); moto confirms "
    "HTTP subscriptions at once, so the test expects a subscription ARN from Subscribe."
)
_EMPTY_APP = (
    _SNS_AWS + "the test creates its application with `Attributes={}`, which boto3 sends as no "
    "Attributes; AWS answers `ValidationError` \"1 validation error detected: Value null at "
    "'attributes' failed to satisfy constraint: Member must not be null\" "
    "(`test_create_platform_application_invalid_attributes[no-args]`)."
)
_SNS_INTERNALS = "moto internals: reads moto's SNS backend (`sns_backends[...]`) or its preset data."
_PAGING = (
    "AWS: `NextToken` is opaque (SNS API reference, ListTopics/ListSubscriptions: \"Token "
    "returned by the previous ... request\"); the test parses moto's integer token."
)
REASONS.update(
    {
        # Apps created with Attributes={}: boto3 sends no Attributes at all for an empty map,
        # and AWS answers ValidationError.
        "tests/test_sns/test_application.py::test_create_platform_endpoint": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_delete_endpoint": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_delete_platform_application": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_get_endpoint_attributes": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_publish_to_platform_endpoint": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_set_endpoint_attributes": _EMPTY_APP,
        "tests/test_sns/test_application.py::test_*_platform_application_attributes": _SNS_AWS
        + "GetPlatformApplicationAttributes never returns the credentials (`test_get_platform_"
        "application_attributes` and `test_set_platform_application_attributes` record only "
        "`Enabled` and `SuccessFeedbackSampleRate` for an application created with both); moto "
        "echoes them.",
        "tests/test_sns/test_application.py::test_*sms_attributes*": _SNS_AWS
        + "SetSMSAttributes refuses an unknown attribute name, `InvalidParameter` \"<name> is "
        "not a valid attribute\" (`test_set_invalid_sms_attributes[InvalidAttributeName]`); "
        "the test sets `test`.",
        "tests/test_sns/test_publish_batch.py::test_publish_with_upper_cased_message_attributes": (
            "AWS: a PublishBatch entry Id may hold only alphanumerics, hyphens and underscores "
            "(https://docs.aws.amazon.com/sns/latest/api/API_PublishBatchRequestEntry.html); "
            "the test's Id has a space."
        ),
        "tests/test_sns/test_publishing.py::test_publish_bad_sms": _SNS_AWS
        + "Publish to `NAA+15551234567` answers \"Invalid parameter: PhoneNumber Reason: "
        "NAA+15551234567 is not valid to publish to\" (`test_publish_wrong_phone_format`); "
        "moto's text speaks of E.164.",
        "tests/test_sns/test_publishing.py::test_publish_fifo_needs_group_id": _SNS_AWS
        + "\"Invalid parameter: The MessageGroupId parameter is required for FIFO topics\" "
        "(`test_publish_batch_exceptions`); the test matches moto's wording.",
        "tests/test_sns/test_publishing.py::test_publish_to_sqs_bad": _SNS_AWS
        + "an invalid message attribute is `ParameterValueInvalid` (`test_empty_or_wrong_"
        "message_attributes`); the test expects `InvalidParameter`.",
        "tests/test_sns/test_publishing.py::test_publish_with_message_structure_errors": _SNS_AWS
        + "\"Invalid parameter: Message Structure - JSON message body failed to parse\" "
        "(`test_message_structure_json_exc`); moto answers \"Message is not valid JSON.\"",
        "tests/test_sns/test_publishing.py::test_publish_large_subject": _SNS_AWS
        + "SNS refuses a bad `Subject` with `InvalidParameter` \"Invalid parameter: Subject\" "
        "(recorded for an empty one, `test_publish_with_empty_subject`); we give the same text "
        "for one over 100 characters, moto \"Subject must be less than 100 characters\" (no "
        "AWS record of that text found). Same code either way.",
        "tests/test_sns/test_publishing.py::test_publish_sms": _SNS_INTERNALS,
        "tests/test_sns/test_publishing.py::test_publish_to_http": _SNS_INTERNALS,
        "tests/test_sns/test_subscriptions.py::test_confirm_subscription": (
            "moto internals: confirms with moto's fixed token; a token SNS did not issue is "
            "refused (InvalidParameter)."
        ),
        "tests/test_sns/test_subscriptions.py::test_check_opted_out": _SNS_INTERNALS,
        "tests/test_sns/test_subscriptions.py::test_list_opted_out": _SNS_INTERNALS,
        "tests/test_sns/test_subscriptions.py::test_opt_in": _SNS_INTERNALS,
        "tests/test_sns/test_subscriptions.py::test_creating_subscription": _HTTP_PENDING,
        "tests/test_sns/test_subscriptions.py::test_creating_subscription_with_attributes": (
            _HTTP_PENDING
        ),
        "tests/test_sns/test_subscriptions.py::test_set_subscription_attributes": _HTTP_PENDING,
        "tests/test_sns/test_subscriptions.py::test_subscribe_attributes": _HTTP_PENDING,
        "tests/test_sns/test_subscriptions.py::test_unsubscribe_from_deleted_topic": _HTTP_PENDING,
        "tests/test_sns/test_subscriptions.py::test_subscribe_invalid_filter_policy": (
            "AWS documents the bound the test's policy breaks (`1000000001`: numbers from -10^9 "
            "to 10^9, https://docs.aws.amazon.com/sns/latest/dg/"
            "subscription-filter-policy-constraints.html) but not the refusal's code; moto has "
            "answered `InternalError` (HTTP 500) since 2019 (its commit d8a922811) with no AWS "
            "record found. We answer `InvalidParameter` naming the bound: a 500 would make SDKs "
            "retry a request that cannot succeed, and every other bad policy is "
            "`InvalidParameter` (LocalStack's AWS-validated filter-policy snapshots)."
        ),
        "tests/test_sns/test_subscriptions.py::test_subscription_paging": _PAGING,
        "tests/test_sns/test_topics.py::test_topic_paging": _PAGING,
        "tests/test_sns/test_topics.py::test_add_permission_errors": _SNS_AWS
        + "a repeated AddPermission label is \"Invalid parameter: Statement already exists\" "
        "(`test_add_permission_errors`); moto answers \"Statement already exists\".",
        "tests/test_sns/test_topics.py::test_create_fifo_topic": _SNS_AWS
        + "a FIFO name mismatch is `Invalid parameter: Topic Name` "
        "(`test_create_topic_name_constraints`).",
        "tests/test_sns/test_topics.py::test_topic_attributes": _SNS_AWS
        + "a new topic's GetTopicAttributes has no `DeliveryPolicy` key "
        "(`test_create_topic_with_attributes`); the test expects `\"\"`.",
        "tests/test_sns/test_topics.py::test_*config*resource*": (
            "moto internals: reads topics through moto's AWS Config backend."
        ),
    }
)

_LATEST_ARN = (
    "AWS: the event invoke config of an unqualified function is `$LATEST`'s, and its "
    "`FunctionArn` ends in `:$LATEST` (AWS CLI reference, put-function-event-invoke-config "
    "example output: https://docs.aws.amazon.com/cli/latest/reference/lambda/"
    "put-function-event-invoke-config.html); moto answers the unqualified ARN."
)
_NEWER_PATTERN = (
    "AWS: the refusal quotes the `DestinationArn` pattern of the current Lambda model (it gained "
    "`kafka://` and the `-iso` regions); moto's test quotes an older pattern."
)
REASONS.update(
    {
        "tests/test_awslambda/test_lambda.py::test_get_event_invoke_config": _LATEST_ARN,
        "tests/test_awslambda/test_lambda.py::test_put_event_invoke_config[*": _LATEST_ARN,
        "tests/test_awslambda/test_lambda.py::test_update_event_invoke_config[*": _LATEST_ARN,
        "tests/test_awslambda/test_lambda.py::test_put_event_invoke_config_errors_[12]": (
            _NEWER_PATTERN
        ),
        "tests/test_awslambda/test_lambda_alias.py::test_aliases_are_unique_per_function": (
            "AWS: the Lambda model's error for an existing alias is "
            "`ResourceConflictException`; moto answers `ConflictException`."
        ),
        "tests/test_awslambda/test_lambda_tags.py::test_tags": (
            "AWS: TagResource answers HTTP 204 (the Lambda model's `http.responseCode`); the "
            "test expects 200."
        ),
    }
)

_PENDING = (
    "AWS: a new function is `Pending` until Lambda has prepared it: CreateFunction answers "
    '`State: "Pending"` with `StateReasonCode: "Creating"` ("Lambda function states", '
    "https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html); moto answers `Active`."
)
_NO_LAYERS = (
    "AWS: a function without layers has no `Layers` key in its configuration (the model's "
    "`Layers` is optional and Lambda leaves it out when empty); moto answers `Layers: []`. The "
    "test also expects `State: Active` from CreateFunction and moto's exact key set (no "
    "`RevisionId`, `LoggingConfig`, ...)."
)
_NO_ECR = (
    "not built: the bridge has no ECR registry (`register_image` stands in for one), so an image "
    "tag is not resolved to the pushed digest, a missing image is not refused, and an image "
    "function's `CodeSize` is 0; the test pushes an image to moto's ECR backend."
)
_ESM_CREATING = (
    "AWS: CreateEventSourceMapping answers `State: \"Creating\"` (AWS CLI reference, "
    "create-event-source-mapping example output: https://docs.aws.amazon.com/cli/latest/"
    "reference/lambda/create-event-source-mapping.html); `Enabled` is reported once the mapping "
    "polls. moto answers `Enabled` at once."
)
REASONS.update(
    {
        "tests/test_awslambda/test_lambda.py::test_create_function_from_aws_bucket": _PENDING,
        "tests/test_awslambda/test_lambda.py::test_create_function_from_zipfile": _NO_LAYERS,
        "tests/test_awslambda/test_lambda.py::test_get_function_created_with_zipfile": _NO_LAYERS,
        "tests/test_awslambda/test_lambda.py::test_list_create_list_get_delete_list": _NO_LAYERS,
        "tests/test_awslambda/test_lambda.py::test_create_function_from_mocked_ecr_*": _NO_ECR,
        "tests/test_awslambda/test_lambda.py::test_list_versions_by_function_for_nonexistent_"
        "function": (
            "AWS: ListVersionsByFunction of a function that does not exist fails with "
            "`ResourceNotFoundException` (its errors, "
            f"{LAMBDA_API}/API_ListVersionsByFunction.html); moto answers an empty list."
        ),
        "tests/test_awslambda/test_lambda.py::test_create_function_with_unknown_arn": (
            "not built: the bridge has no IAM, so it cannot tell that a role of the account does "
            "not exist (AWS: `InvalidParameterValueException`, \"The role defined for the "
            "function cannot be assumed by Lambda.\")."
        ),
        "tests/test_awslambda/test_lambda.py::test_get_function_code_signing_config*": (
            "AWS: the test's `CodeSigningConfigArn=\"csc:arn\"` fails the model's pattern "
            "(`arn:...:code-signing-config:csc-[a-z0-9]{17}`), so CreateFunction refuses it; "
            "code signing configs are also not built in the bridge."
        ),
        "tests/test_awslambda/test_lambda_alias.py::test_create_alias_with_routing_config": (
            "AWS: an alias of `$LATEST` cannot route to more versions: `InvalidParameterValue"
            "Exception`, \"$LATEST is not supported for an alias pointing to more than 1 "
            "version\" (weighted aliases need published versions, "
            "https://docs.aws.amazon.com/lambda/latest/dg/configuring-alias-routing.html); the "
            "test routes `$LATEST` to version 2, which does not exist either."
        ),
        "tests/test_awslambda/test_lambda_alias.py::test_update_alias_routingconfig": (
            "AWS: an alias of `$LATEST` cannot route to more versions (see "
            "test_create_alias_with_routing_config)."
        ),
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_create_event_source_mapping": (
            "AWS: the test gives an SQS source stream-only settings (`StartingPosition`, "
            "`ParallelizationFactor`, `DestinationConfig`, `MaximumRecordAgeInSeconds`, "
            "`BisectBatchOnFunctionError`, `MaximumRetryAttempts`, `TumblingWindowInSeconds`), "
            "which Lambda refuses for SQS (CreateEventSourceMapping lists each as for streams, "
            f"{LAMBDA_API}/API_CreateEventSourceMapping.html); moto accepts them."
        ),
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_delete_event_source_mapping": _ESM_CREATING,
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_update_event_source_mapping": _ESM_CREATING,
    }
)

_LS_LAMBDA = "LocalStack's AWS-validated snapshots, tests/aws/services/lambda_/"
_EVENT_PAYLOAD = (
    "AWS: an `Event` invocation is queued and answered `202` with an empty payload (Invoke: "
    '"For the Event invocation type, this status code is 202", '
    f"{LAMBDA_API}/API_Invoke.html; {_LS_LAMBDA}test_lambda.snapshot.json, "
    '`TestLambdaFeatures::test_invocation_type_event[python3.10]`: `"Payload": ""`, '
    "`StatusCode` 202); the test expects the function's result in it, as moto runs the function "
    "synchronously."
)
_STREAMS = (
    "not built: the bridge maps SQS queues to functions; DynamoDB Streams and Kinesis event "
    "sources (and those services) are not served, so CreateEventSourceMapping refuses the "
    "stream ARN."
)
REASONS.update(
    {
        # -- requires_docker tests, run through the bridge (moto's own run skips them) --------
        "tests/test_awslambda/test_lambda_invoke.py::TestLambdaInvocations_Error::"
        "test_invoke_function_that_throws_error*": (
            "AWS: an exception a Python handler does not catch is reported with `FunctionError: "
            f"\"Unhandled\"` ({_LS_LAMBDA}test_lambda_common.snapshot.json, "
            "`TestLambdaRuntimesCommon::test_uncaught_exception_invoke[python3.12]` and the other "
            "Python runtimes: `\"FunctionError\": \"Unhandled\"`, `errorType` `Exception`); the "
            "test expects `Handled`, which the older API reference described as an error the "
            "function reported itself. The rest of the test (payload, log tail with the traceback) passes."
        ),
        "tests/test_awslambda/test_lambda_invoke.py::TestLambdaInvocations::"
        "test_invoke_event_function": _EVENT_PAYLOAD,
        "tests/test_awslambda/test_lambda_invoke.py::"
        "test_invoke_function_with_multiple_files_in_zip": _EVENT_PAYLOAD,
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_invoke_function_from_sqs*": _ESM_CREATING,
        "tests/test_sqs/test_sqs_integration.py::test_invoke_function_from_sqs_*": _ESM_CREATING,
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_invoke_function_from_sns": (
            "AWS: a function's log group `/aws/lambda/<name>` does not exist until the function "
            "first logs — Lambda creates it then, which is why its basic execution role grants "
            "`logs:CreateLogGroup` (AWSLambdaBasicExecutionRole, https://docs.aws.amazon.com/"
            "aws-managed-policy/latest/reference/AWSLambdaBasicExecutionRole.html) — and SNS "
            "delivers to the function asynchronously, after Publish has returned. The test calls "
            "DescribeLogStreams right after Publish and retries only on an empty list, so the "
            "`ResourceNotFoundException` (\"The specified log group does not exist.\") CloudWatch "
            "Logs answers for a group not yet created ends it; moto invokes the function inside "
            "Publish. Read a moment later, the printed line is there (DescribeLogStreams, "
            "GetLogEvents through the bridge: tests/test_boto_logs.py)."
        ),
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_invoke_function_from_dynamodb_*": _STREAMS,
        "tests/test_awslambda/test_lambda_eventsourcemapping.py::"
        "test_invoke_function_from_kinesis": _STREAMS,
    }
)
