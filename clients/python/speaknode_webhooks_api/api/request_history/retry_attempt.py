from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.retry_accepted import RetryAccepted
from ...types import Response


def _get_kwargs(
    id: str,
    attempt_id: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks/{id}/attempts/{attempt_id}/retry".format(
            id=quote(str(id), safe=""),
            attempt_id=quote(str(attempt_id), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | RetryAccepted | None:
    if response.status_code == 202:
        response_202 = RetryAccepted.from_dict(response.json())

        return response_202

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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
) -> Response[Error | RetryAccepted]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    attempt_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | RetryAccepted]:
    """Retry an attempt's delivery

     One more attempt of that delivery, now (trigger `manual`), whatever its state.

    Args:
        id (str):
        attempt_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RetryAccepted]
    """

    kwargs = _get_kwargs(
        id=id,
        attempt_id=attempt_id,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    attempt_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | RetryAccepted | None:
    """Retry an attempt's delivery

     One more attempt of that delivery, now (trigger `manual`), whatever its state.

    Args:
        id (str):
        attempt_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RetryAccepted
    """

    return sync_detailed(
        id=id,
        attempt_id=attempt_id,
        client=client,
    ).parsed


async def asyncio_detailed(
    id: str,
    attempt_id: str,
    *,
    client: AuthenticatedClient,
) -> Response[Error | RetryAccepted]:
    """Retry an attempt's delivery

     One more attempt of that delivery, now (trigger `manual`), whatever its state.

    Args:
        id (str):
        attempt_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | RetryAccepted]
    """

    kwargs = _get_kwargs(
        id=id,
        attempt_id=attempt_id,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    attempt_id: str,
    *,
    client: AuthenticatedClient,
) -> Error | RetryAccepted | None:
    """Retry an attempt's delivery

     One more attempt of that delivery, now (trigger `manual`), whatever its state.

    Args:
        id (str):
        attempt_id (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | RetryAccepted
    """

    return (
        await asyncio_detailed(
            id=id,
            attempt_id=attempt_id,
            client=client,
        )
    ).parsed
