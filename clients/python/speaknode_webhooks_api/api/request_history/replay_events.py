from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.replay import Replay
from ...models.replayed import Replayed
from ...types import Response


def _get_kwargs(
    id: str,
    *,
    body: Replay,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/webhooks/{id}/replay".format(
            id=quote(str(id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | Replayed | None:
    if response.status_code == 202:
        response_202 = Replayed.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

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
) -> Response[Error | Replayed]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: Replay,
) -> Response[Error | Replayed]:
    """Replay events to a webhook

     Makes a delivery (trigger `scheduled`) for every event accepted in the window that is of the
    webhook's types, passes its filter and has no delivery to it yet; calling it again replays
    nothing new.

    Args:
        id (str):
        body (Replay): Which events to replay. Optional fields only so that a missing `since` is a
            422.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Replayed]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    id: str,
    *,
    client: AuthenticatedClient,
    body: Replay,
) -> Error | Replayed | None:
    """Replay events to a webhook

     Makes a delivery (trigger `scheduled`) for every event accepted in the window that is of the
    webhook's types, passes its filter and has no delivery to it yet; calling it again replays
    nothing new.

    Args:
        id (str):
        body (Replay): Which events to replay. Optional fields only so that a missing `since` is a
            422.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Replayed
    """

    return sync_detailed(
        id=id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    id: str,
    *,
    client: AuthenticatedClient,
    body: Replay,
) -> Response[Error | Replayed]:
    """Replay events to a webhook

     Makes a delivery (trigger `scheduled`) for every event accepted in the window that is of the
    webhook's types, passes its filter and has no delivery to it yet; calling it again replays
    nothing new.

    Args:
        id (str):
        body (Replay): Which events to replay. Optional fields only so that a missing `since` is a
            422.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Replayed]
    """

    kwargs = _get_kwargs(
        id=id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    id: str,
    *,
    client: AuthenticatedClient,
    body: Replay,
) -> Error | Replayed | None:
    """Replay events to a webhook

     Makes a delivery (trigger `scheduled`) for every event accepted in the window that is of the
    webhook's types, passes its filter and has no delivery to it yet; calling it again replays
    nothing new.

    Args:
        id (str):
        body (Replay): Which events to replay. Optional fields only so that a missing `since` is a
            422.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Replayed
    """

    return (
        await asyncio_detailed(
            id=id,
            client=client,
            body=body,
        )
    ).parsed
