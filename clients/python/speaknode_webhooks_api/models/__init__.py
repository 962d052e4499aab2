"""Contains all the data models used in inputs/outputs"""

from .api_key_created import ApiKeyCreated
from .attempt import Attempt
from .attempt_error_type_1 import AttemptErrorType1
from .attempt_error_type_2_type_1 import AttemptErrorType2Type1
from .attempt_error_type_3_type_1 import AttemptErrorType3Type1
from .attempt_payload import AttemptPayload
from .attempt_trigger import AttemptTrigger
from .delivery import Delivery
from .delivery_state import DeliveryState
from .error import Error
from .error_code import ErrorCode
from .error_detail import ErrorDetail
from .event import Event
from .event_accepted import EventAccepted
from .event_data import EventData
from .event_summary import EventSummary
from .event_summary_data import EventSummaryData
from .event_type import EventType
from .health import Health
from .health_status import HealthStatus
from .list_attempt import ListAttempt
from .list_event_summary import ListEventSummary
from .list_event_type import ListEventType
from .list_webhook import ListWebhook
from .list_workspace import ListWorkspace
from .new_event import NewEvent
from .new_event_data import NewEventData
from .new_event_type import NewEventType
from .new_portal_session import NewPortalSession
from .new_webhook import NewWebhook
from .new_webhook_filter_type_0 import NewWebhookFilterType0
from .new_webhook_headers_type_0 import NewWebhookHeadersType0
from .new_workspace import NewWorkspace
from .openapi_document_response_200 import OpenapiDocumentResponse200
from .portal_session import PortalSession
from .recover import Recover
from .replay import Replay
from .replayed import Replayed
from .requeued import Requeued
from .retry_accepted import RetryAccepted
from .stats import Stats
from .stats_outcomes import StatsOutcomes
from .stats_point import StatsPoint
from .stats_totals import StatsTotals
from .test_send import TestSend
from .webhook import Webhook
from .webhook_disabled_reason_type_1 import WebhookDisabledReasonType1
from .webhook_disabled_reason_type_2_type_1 import WebhookDisabledReasonType2Type1
from .webhook_disabled_reason_type_3_type_1 import WebhookDisabledReasonType3Type1
from .webhook_filter_type_0 import WebhookFilterType0
from .webhook_headers import WebhookHeaders
from .webhook_secret import WebhookSecret
from .webhook_update import WebhookUpdate
from .webhook_update_filter_type_0 import WebhookUpdateFilterType0
from .webhook_update_headers_type_0 import WebhookUpdateHeadersType0
from .workspace import Workspace

__all__ = (
    "ApiKeyCreated",
    "Attempt",
    "AttemptErrorType1",
    "AttemptErrorType2Type1",
    "AttemptErrorType3Type1",
    "AttemptPayload",
    "AttemptTrigger",
    "Delivery",
    "DeliveryState",
    "Error",
    "ErrorCode",
    "ErrorDetail",
    "Event",
    "EventAccepted",
    "EventData",
    "EventSummary",
    "EventSummaryData",
    "EventType",
    "Health",
    "HealthStatus",
    "ListAttempt",
    "ListEventSummary",
    "ListEventType",
    "ListWebhook",
    "ListWorkspace",
    "NewEvent",
    "NewEventData",
    "NewEventType",
    "NewPortalSession",
    "NewWebhook",
    "NewWebhookFilterType0",
    "NewWebhookHeadersType0",
    "NewWorkspace",
    "OpenapiDocumentResponse200",
    "PortalSession",
    "Recover",
    "Replay",
    "Replayed",
    "Requeued",
    "RetryAccepted",
    "Stats",
    "StatsOutcomes",
    "StatsPoint",
    "StatsTotals",
    "TestSend",
    "Webhook",
    "WebhookDisabledReasonType1",
    "WebhookDisabledReasonType2Type1",
    "WebhookDisabledReasonType3Type1",
    "WebhookFilterType0",
    "WebhookHeaders",
    "WebhookSecret",
    "WebhookUpdate",
    "WebhookUpdateFilterType0",
    "WebhookUpdateHeadersType0",
    "Workspace",
)
