import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.list_event_summary import ListEventSummary
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    state: str | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    data_path: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["cursor"] = cursor

    params["type"] = type_

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    params["state"] = state

    params["webhook_id"] = webhook_id

    params["data.<path>"] = data_path

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/events",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | ListEventSummary | None:
    if response.status_code == 200:
        response_200 = ListEventSummary.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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
) -> Response[Error | ListEventSummary]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    state: str | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    data_path: str | Unset = UNSET,
) -> Response[Error | ListEventSummary]:
    """List events

     Newest first. Every filter given must hold; `data.<path>=<value>` (any number of them) keeps
    the events whose `data` has that value at that dotted path: a JSON number or `true`/`false`
    matches as that type, anything else (or a value in double quotes) as text.

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        type_ (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        state (str | Unset):
        webhook_id (str | Unset):
        data_path (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ListEventSummary]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        type_=type_,
        since=since,
        until=until,
        state=state,
        webhook_id=webhook_id,
        data_path=data_path,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    state: str | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    data_path: str | Unset = UNSET,
) -> Error | ListEventSummary | None:
    """List events

     Newest first. Every filter given must hold; `data.<path>=<value>` (any number of them) keeps
    the events whose `data` has that value at that dotted path: a JSON number or `true`/`false`
    matches as that type, anything else (or a value in double quotes) as text.

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        type_ (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        state (str | Unset):
        webhook_id (str | Unset):
        data_path (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ListEventSummary
    """

    return sync_detailed(
        client=client,
        limit=limit,
        cursor=cursor,
        type_=type_,
        since=since,
        until=until,
        state=state,
        webhook_id=webhook_id,
        data_path=data_path,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    state: str | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    data_path: str | Unset = UNSET,
) -> Response[Error | ListEventSummary]:
    """List events

     Newest first. Every filter given must hold; `data.<path>=<value>` (any number of them) keeps
    the events whose `data` has that value at that dotted path: a JSON number or `true`/`false`
    matches as that type, anything else (or a value in double quotes) as text.

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        type_ (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        state (str | Unset):
        webhook_id (str | Unset):
        data_path (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | ListEventSummary]
    """

    kwargs = _get_kwargs(
        limit=limit,
        cursor=cursor,
        type_=type_,
        since=since,
        until=until,
        state=state,
        webhook_id=webhook_id,
        data_path=data_path,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    cursor: str | Unset = UNSET,
    type_: str | Unset = UNSET,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    state: str | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    data_path: str | Unset = UNSET,
) -> Error | ListEventSummary | None:
    """List events

     Newest first. Every filter given must hold; `data.<path>=<value>` (any number of them) keeps
    the events whose `data` has that value at that dotted path: a JSON number or `true`/`false`
    matches as that type, anything else (or a value in double quotes) as text.

    Args:
        limit (int | Unset):  Default: 20.
        cursor (str | Unset):
        type_ (str | Unset):
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        state (str | Unset):
        webhook_id (str | Unset):
        data_path (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | ListEventSummary
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            cursor=cursor,
            type_=type_,
            since=since,
            until=until,
            state=state,
            webhook_id=webhook_id,
            data_path=data_path,
        )
    ).parsed
