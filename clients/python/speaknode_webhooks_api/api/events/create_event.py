from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.event_accepted import EventAccepted
from ...models.new_event import NewEvent
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NewEvent,
    idempotency_key: None | str | Unset = UNSET,
    traceparent: None | str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    if not isinstance(traceparent, Unset):
        headers["traceparent"] = traceparent

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/events",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | EventAccepted | None:
    if response.status_code == 202:
        response_202 = EventAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = Error.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = Error.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | EventAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: NewEvent,
    idempotency_key: None | str | Unset = UNSET,
    traceparent: None | str | Unset = UNSET,
) -> Response[Error | EventAccepted]:
    """Emit an event

     Answered only once the event and all its deliveries are durably stored. With an
    `Idempotency-Key`, a repeat of the same request within 24 hours answers the first response
    again and creates no new event. A `data` that is not a JSON object is a 400.

    Args:
        idempotency_key (None | str | Unset):
        traceparent (None | str | Unset):
        body (NewEvent): An event to emit. Fields are optional here only so that a missing one is
            answered 422 naming
            it, rather than 400 from the JSON parser.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | EventAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: NewEvent,
    idempotency_key: None | str | Unset = UNSET,
    traceparent: None | str | Unset = UNSET,
) -> Error | EventAccepted | None:
    """Emit an event

     Answered only once the event and all its deliveries are durably stored. With an
    `Idempotency-Key`, a repeat of the same request within 24 hours answers the first response
    again and creates no new event. A `data` that is not a JSON object is a 400.

    Args:
        idempotency_key (None | str | Unset):
        traceparent (None | str | Unset):
        body (NewEvent): An event to emit. Fields are optional here only so that a missing one is
            answered 422 naming
            it, rather than 400 from the JSON parser.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | EventAccepted
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewEvent,
    idempotency_key: None | str | Unset = UNSET,
    traceparent: None | str | Unset = UNSET,
) -> Response[Error | EventAccepted]:
    """Emit an event

     Answered only once the event and all its deliveries are durably stored. With an
    `Idempotency-Key`, a repeat of the same request within 24 hours answers the first response
    again and creates no new event. A `data` that is not a JSON object is a 400.

    Args:
        idempotency_key (None | str | Unset):
        traceparent (None | str | Unset):
        body (NewEvent): An event to emit. Fields are optional here only so that a missing one is
            answered 422 naming
            it, rather than 400 from the JSON parser.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | EventAccepted]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
        traceparent=traceparent,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewEvent,
    idempotency_key: None | str | Unset = UNSET,
    traceparent: None | str | Unset = UNSET,
) -> Error | EventAccepted | None:
    """Emit an event

     Answered only once the event and all its deliveries are durably stored. With an
    `Idempotency-Key`, a repeat of the same request within 24 hours answers the first response
    again and creates no new event. A `data` that is not a JSON object is a 400.

    Args:
        idempotency_key (None | str | Unset):
        traceparent (None | str | Unset):
        body (NewEvent): An event to emit. Fields are optional here only so that a missing one is
            answered 422 naming
            it, rather than 400 from the JSON parser.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | EventAccepted
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
            traceparent=traceparent,
        )
    ).parsed
