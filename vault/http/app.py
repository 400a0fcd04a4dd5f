"""The HTTP API's routes and error handlers: a thin translation to vault.core.

The contract (docs/API.md) fixes every answer; the strings live in `contract.py`.
Business rules (who may download, what a valid name is, login throttling) are the core's:
this module parses requests, calls the core in a worker thread (never on the event loop:
argon2 and SQLite block) and maps the core's typed errors to status codes and one-line
plain-text bodies. No stack trace ever reaches a client.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from vault.core import downloads as core_downloads
from vault.core import files, sessions, shares, throttle, users
from vault.core.errors import (
    CorruptObject,
    LoginFailed,
    NoSuchFile,
    NoSuchUser,
    NotLoggedIn,
    NotOwner,
    StorageFull,
    TooLarge,
    TooManyAttempts,
    UnreadableObject,
    UsernameTaken,
    VaultError,
    VaultUnavailable,
)
from vault.core.models import User
from vault.core.names import parse_id
from vault.core.vault import Vault
from vault.http import contract, downloads
from vault.http.security import GuardMiddleware
from vault.http.uploads import BadRequest, receive_files

log = logging.getLogger("vault.http")

_TRUE = {"1", "true", "yes", "on"}


# -- small helpers ------------------------------------------------------------------------------


def text(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A one-line text/plain answer (`text/plain; charset=utf-8`, no trailing newline)."""
    return PlainTextResponse(body, status, headers=headers)


def json_body(obj: Any) -> Response:
    """JSON as the original service wrote it: `{"a": [1, 2]}` (json.dumps' default spacing)."""
    return Response(json.dumps(obj, ensure_ascii=False), media_type="application/json")


def vault_of(request: Request) -> Vault:
    return request.app.state.vault


def token_of(request: Request) -> str | None:
    """The session token: `Authorization: Bearer` first, else the session cookie."""
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(contract.COOKIE)


def current_user(request: Request) -> User:
    """The logged-in user (worker thread: it reads SQLite); NotLoggedIn otherwise."""
    return sessions.resolve(vault_of(request), token_of(request))


async def read_body(request: Request) -> bytes:
    """The whole (small) body of a JSON request, refused with 413 past JSON_LIMIT."""
    limit = contract.JSON_LIMIT
    too_large = BadRequest(contract.JSON_TOO_LARGE.format(limit=limit), 413)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        request.state.close_connection = True
        raise too_large
    buf = bytearray()
    async for chunk in request.stream():
        buf += chunk
        if len(buf) > limit:
            request.state.close_connection = True
            raise too_large
    return bytes(buf)


def parse_json(raw: bytes, path: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise BadRequest(contract.NOT_JSON.format(example=contract.EXAMPLES.get(path, "{}")))
    return data


def field_str(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if value is None:
        raise BadRequest(contract.FIELD_REQUIRED.format(field=name))
    if not isinstance(value, str):
        raise BadRequest(contract.FIELD_STRING.format(field=name))
    return value


def field_id(data: dict[str, Any], name: str) -> int:
    """An id sent as a JSON string of digits (`"20"`, as the original) or an integer (`20`),
    by the core's id rule (`names.parse_id`)."""
    value = data.get(name)
    if value is None:
        raise BadRequest(contract.FIELD_REQUIRED.format(field=name))
    # str(True) is "True" and str(-1) is "-1": neither is an id
    number = parse_id(str(value)) if isinstance(value, (int, str)) else None
    if number is None:
        raise BadRequest(contract.FIELD_ID.format(field=name))
    return number


def target_user(v: Vault, data: dict[str, Any]) -> int:
    """The destination user's id, from `user_destination_id` or `user_destination` (a name)."""
    if data.get("user_destination_id") is not None or data.get("user_destination") is None:
        return field_id(data, "user_destination_id")
    return users.find_by_name(v, field_str(data, "user_destination")).id


JsonHandler = Callable[[Request, Vault, User, dict[str, Any]], Response]


def json_endpoint(path: str, handler: JsonHandler) -> Callable[[Request], Any]:
    """A POST endpoint taking a JSON object: body read on the loop, the rest in a worker thread.

    The session is checked before the body is parsed, so a logged-out client learns that
    first (401), whatever it sent.
    """

    async def endpoint(request: Request) -> Response:
        user = await run_in_threadpool(current_user, request)
        raw = await read_body(request)

        def call() -> Response:
            return handler(request, vault_of(request), user, parse_json(raw, path))

        return await run_in_threadpool(call)

    return endpoint


# -- accounts -----------------------------------------------------------------------------------


def _argon2_gate(request: Request) -> anyio.Semaphore:
    """argon2 takes 64 MiB and a core's worth of time per call: a few at a time, not 40."""
    return request.app.state.argon2_gate


def _client_of(request: Request) -> throttle.Client:
    """Who is logging in or registering: the peer's address and its device cookie, if any."""
    host = request.client.host if request.client else None
    return throttle.http_client(host, request.cookies.get(contract.DEVICE_COOKIE))


def _give_device_token(response: Response, client: throttle.Client) -> None:
    """The device cookie that exempts this client from its account's lockout (throttle.py)."""
    assert client.new_token is not None
    response.set_cookie(
        contract.DEVICE_COOKIE,
        client.new_token,
        max_age=int(throttle.DEVICE_EXPIRY),
        path="/login",
        httponly=True,
        samesite="strict",
    )


async def login(request: Request) -> Response:
    raw = await read_body(request)

    def call() -> Response:
        data = parse_json(raw, "/login")
        username = field_str(data, "username")
        password = field_str(data, "password")
        client = _client_of(request)
        user, token = sessions.login(vault_of(request), username, password, client=client)
        response = text(contract.WELCOME.format(username=user.username))
        response.set_cookie(
            contract.COOKIE,
            token,
            max_age=int(sessions.ABSOLUTE_EXPIRY),
            path="/",
            httponly=True,
            samesite="strict",
        )
        _give_device_token(response, client)
        return response

    # waiting for the gate happens on the loop: queued logins hold no worker thread
    async with _argon2_gate(request):
        return await run_in_threadpool(call)


async def register(request: Request) -> Response:
    raw = await read_body(request)

    def call() -> Response:
        data = parse_json(raw, "/register")
        username = field_str(data, "username")
        password = field_str(data, "password")
        client = _client_of(request)
        check = request.app.state.register_check
        if check is not None:
            check(username)
        try:
            user = users.register(vault_of(request), username, password, client=client)
        except UsernameTaken:
            return text(contract.REGISTER_TAKEN)
        response = text(contract.REGISTER_OK.format(username=user.username))
        _give_device_token(response, client)
        return response

    # waiting for the gate happens on the loop: queued logins hold no worker thread
    async with _argon2_gate(request):
        return await run_in_threadpool(call)


def logout(request: Request) -> Response:
    token = token_of(request)
    user = sessions.logout(vault_of(request), token) if token else None
    if user is None:
        raise NotLoggedIn()
    response = text(contract.LOGGED_OUT.format(username=user.username))
    response.delete_cookie(contract.COOKIE, path="/", httponly=True, samesite="strict")
    return response


def whoami(request: Request) -> Response:
    user = current_user(request)
    return json_body({"id": user.id, "username": user.username})


# -- files --------------------------------------------------------------------------------------


def list_files(request: Request) -> Response:
    user = current_user(request)
    listing = files.list_files(vault_of(request), user)
    if request.query_params.get("details", "").lower() in _TRUE:
        return json_body(
            {
                "your_files": [e.as_dict(own=True) for e in listing.own],
                "shared_files": [e.as_dict(own=False) for e in listing.shared],
            }
        )
    return json_body(
        {
            "your_files": [e.name for e in listing.own],
            "shared_files": [e.name for e in listing.shared],
        }
    )


async def upload(request: Request) -> Response:
    v = vault_of(request)
    user = await run_in_threadpool(current_user, request)
    transfers: set[anyio.CancelScope] = request.app.state.transfers
    with anyio.CancelScope() as scope:
        transfers.add(scope)
        try:
            await receive_files(request, v, user, request.app.state.max_upload)
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening; everything was aborted
        finally:
            transfers.discard(scope)
    if scope.cancelled_caught:
        return text(contract.SHUTTING_DOWN, 503, headers={"connection": "close"})
    return text(contract.UPLOAD_OK)


async def download(request: Request) -> Response:
    raw = await read_body(request)

    def prepare() -> Response:
        v = vault_of(request)
        user = current_user(request)
        file_id = field_id(parse_json(raw, "/download"), "file_id")
        try:
            content = core_downloads.open_content(v, user, file_id)
        except NoSuchFile:
            return text(contract.DOWNLOAD_DENIED)
        try:
            return downloads.response(v, content, dict(request.headers), request.method)
        except BaseException:
            os.close(content.fd)
            raise

    return await run_in_threadpool(prepare)


def _share(request: Request, v: Vault, user: User, data: dict[str, Any]) -> Response:
    file_id = field_id(data, "file_id")
    try:
        shares.share(v, user, file_id, target_user(v, data))
    except (NoSuchFile, NotOwner):
        return text(contract.SHARE_NOT_OWNER)
    return text(contract.SHARE_OK)


def _unshare(request: Request, v: Vault, user: User, data: dict[str, Any]) -> Response:
    file_id = field_id(data, "file_id")
    try:
        shares.unshare(v, user, file_id, target_user(v, data))
    except (NoSuchFile, NotOwner):
        return text(contract.SHARE_NOT_OWNER)
    return text(contract.UNSHARE_OK)


def _delete(request: Request, v: Vault, user: User, data: dict[str, Any]) -> Response:
    file_id = field_id(data, "file_id")
    try:
        files.delete(v, user, file_id)
    except (NoSuchFile, NotOwner):
        return text(contract.DOWNLOAD_DENIED)
    return text(contract.DELETE_OK)


# -- errors -------------------------------------------------------------------------------------


def _closing(request: Request, headers: dict[str, str] | None = None) -> dict[str, str]:
    """Ask the server to close the connection when a request body was left unread."""
    headers = dict(headers or {})
    if getattr(request.state, "close_connection", False):
        headers["connection"] = "close"
    return headers


async def on_bad_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadRequest)
    return text(exc.message, exc.status, headers=_closing(request))


async def on_vault_error(request: Request, exc: Exception) -> Response:
    """The core's typed errors, as the contract words them."""
    assert isinstance(exc, VaultError)
    headers = _closing(request)
    if isinstance(exc, NotLoggedIn):
        headers["www-authenticate"] = 'Bearer realm="vault"'
        return text(contract.LOGIN_REQUIRED, 401, headers)
    if isinstance(exc, LoginFailed):
        return text(contract.LOGIN_FAILED, 401, headers)
    if isinstance(exc, TooManyAttempts):
        headers["retry-after"] = str(exc.retry_after)
        return text(exc.message, 429, headers)
    if isinstance(exc, (NoSuchFile, NotOwner)):
        return text(contract.DOWNLOAD_DENIED, 200, headers)
    if isinstance(exc, NoSuchUser):
        return text(contract.SHARE_NO_USER, 200, headers)
    if isinstance(exc, TooLarge):
        return text(contract.UPLOAD_TOO_LARGE.format(limit=exc.limit), 413, headers)
    if isinstance(exc, StorageFull):
        return text(contract.STORAGE_FULL, 507, headers)
    if isinstance(exc, CorruptObject):
        log.error("download refused: %s", exc.message)
        return text(exc.message, 500, headers)
    if isinstance(exc, UnreadableObject):  # the path is the server's business, not the client's
        log.error("download refused: %s", exc.message)
        return text(contract.STORED_UNREADABLE, 500, headers)
    if isinstance(exc, VaultUnavailable):
        return text(exc.message, 503, headers)
    return text(exc.message, 400, headers)  # InvalidName/Username/Password, ShareWithSelf…


async def on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return text(exc.detail, exc.status_code, headers=dict(exc.headers or {}))


async def on_disconnect(request: Request, exc: Exception) -> Response:
    return Response(status_code=400)  # the client left; nobody reads this


async def on_crash(request: Request, exc: Exception) -> Response:
    """Anything unexpected: one line for the client, the traceback for the server log."""
    # the server re-raises it after this answer, and uvicorn logs the traceback
    # the type only: an exception's text may quote what the client sent (a password)
    log.error("%s %s failed: %s", request.method, request.url.path, type(exc).__name__)
    return text(contract.INTERNAL_ERROR, 500, headers={"connection": "close"})


# -- the app ------------------------------------------------------------------------------------


def make_app(
    v: Vault,
    *,
    max_upload: int | None = None,
    allowed_hosts: Iterable[str] = (),
    register_check: Callable[[str], None] | None = None,
) -> Starlette:
    """The ASGI app for one vault. `allowed_hosts` adds Host names beyond the loopback ones;
    `register_check(username)` may refuse a registration (the daemon's rule for OS users' names).
    """
    post = ["POST"]
    routes = [
        Route("/login", login, methods=post),
        Route("/logout", logout, methods=post),
        Route("/register", register, methods=post),
        Route("/whoami", whoami, methods=["GET"]),
        Route("/files", list_files, methods=["GET"]),
        Route("/upload", upload, methods=post),
        Route("/download", download, methods=post),
        Route("/share", json_endpoint("/share", _share), methods=post),
        Route("/unshare", json_endpoint("/unshare", _unshare), methods=post),
        Route("/delete", json_endpoint("/delete", _delete), methods=post),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(GuardMiddleware, allowed_hosts=list(allowed_hosts))],
        exception_handlers={
            BadRequest: on_bad_request,
            VaultError: on_vault_error,
            HTTPException: on_http_exception,
            ClientDisconnect: on_disconnect,
            Exception: on_crash,
        },
    )
    app.state.vault = v
    app.state.max_upload = max_upload
    app.state.register_check = register_check
    app.state.transfers = set()
    app.state.argon2_gate = anyio.Semaphore(max(2, os.cpu_count() or 2))
    return app


def cancel_uploads(app: Starlette) -> int:
    """Stop every upload in flight (on shutdown): each aborts, storing nothing. Loop thread only."""
    scopes = list(app.state.transfers)
    for scope in scopes:
        scope.cancel()
    return len(scopes)
