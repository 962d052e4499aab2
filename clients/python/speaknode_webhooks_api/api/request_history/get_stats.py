import datetime
from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.stats import Stats
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    bucket: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    json_since: str | Unset = UNSET
    if not isinstance(since, Unset):
        json_since = since.isoformat()
    params["since"] = json_since

    json_until: str | Unset = UNSET
    if not isinstance(until, Unset):
        json_until = until.isoformat()
    params["until"] = json_until

    params["webhook_id"] = webhook_id

    params["bucket"] = bucket

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/stats",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | Stats | None:
    if response.status_code == 200:
        response_200 = Stats.from_dict(response.json())

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
) -> Response[Error | Stats]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    bucket: str | Unset = UNSET,
) -> Response[Error | Stats]:
    """Delivery statistics

     Counts the attempts of the Request History (every trigger) that started in `[since, until)`:
    totals, a series of every bucket, and the attempts by outcome. Its cost follows the number
    of buckets, not of attempts.

    Args:
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        webhook_id (str | Unset):
        bucket (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Stats]
    """

    kwargs = _get_kwargs(
        since=since,
        until=until,
        webhook_id=webhook_id,
        bucket=bucket,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    bucket: str | Unset = UNSET,
) -> Error | Stats | None:
    """Delivery statistics

     Counts the attempts of the Request History (every trigger) that started in `[since, until)`:
    totals, a series of every bucket, and the attempts by outcome. Its cost follows the number
    of buckets, not of attempts.

    Args:
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        webhook_id (str | Unset):
        bucket (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Stats
    """

    return sync_detailed(
        client=client,
        since=since,
        until=until,
        webhook_id=webhook_id,
        bucket=bucket,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    bucket: str | Unset = UNSET,
) -> Response[Error | Stats]:
    """Delivery statistics

     Counts the attempts of the Request History (every trigger) that started in `[since, until)`:
    totals, a series of every bucket, and the attempts by outcome. Its cost follows the number
    of buckets, not of attempts.

    Args:
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        webhook_id (str | Unset):
        bucket (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Stats]
    """

    kwargs = _get_kwargs(
        since=since,
        until=until,
        webhook_id=webhook_id,
        bucket=bucket,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    since: datetime.datetime | Unset = UNSET,
    until: datetime.datetime | Unset = UNSET,
    webhook_id: str | Unset = UNSET,
    bucket: str | Unset = UNSET,
) -> Error | Stats | None:
    """Delivery statistics

     Counts the attempts of the Request History (every trigger) that started in `[since, until)`:
    totals, a series of every bucket, and the attempts by outcome. Its cost follows the number
    of buckets, not of attempts.

    Args:
        since (datetime.datetime | Unset):
        until (datetime.datetime | Unset):
        webhook_id (str | Unset):
        bucket (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Stats
    """

    return (
        await asyncio_detailed(
            client=client,
            since=since,
            until=until,
            webhook_id=webhook_id,
            bucket=bucket,
        )
    ).parsed
