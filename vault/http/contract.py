"""Every string the HTTP API answers with, in one place (docs/API.md lists them all).

The documented ones are byte-exact copies of the original service's answers: clients written
against it compare them literally, so never reword them. The others are this project's one-line
answers for cases the original left undocumented; they say what to fix.
"""

from __future__ import annotations

# -- documented: 200 OK, text/plain, byte-exact -------------------------------------------------

WELCOME = "Welcome {username}"
LOGGED_OUT = "Successfully Logged out from {username}"
REGISTER_TAKEN = "Register Failed, Username already exist!"
REGISTER_OK = "Register Success!, Welcome {username}"
UPLOAD_OK = "Upload Success!"
SHARE_OK = "File share success"
SHARE_NOT_OWNER = "File not belong to user_origin"
SHARE_NO_USER = "User_destination not exist"
DOWNLOAD_DENIED = "File not belong to user"

# -- additions (backward compatible) ------------------------------------------------------------

UNSHARE_OK = "File unshare success"
DELETE_OK = "File delete success"

# -- undocumented cases: proper status codes, one line ------------------------------------------

LOGIN_REQUIRED = "Login required"
LOGIN_FAILED = "Login Failed, wrong username or password"
FIELD_REQUIRED = "Field '{field}' is required"
FIELD_STRING = "Field '{field}' must be a string"
FIELD_ID = "Field '{field}' must be an id: a decimal number such as \"20\""
NOT_JSON = "Body must be a JSON object, such as {example}"
JSON_TOO_LARGE = "Request body too large: at most {limit} bytes of JSON"
NO_FILE = "No file in request: send multipart/form-data with a 'file' part"
NOT_MULTIPART = "Send the file as multipart/form-data with a 'file' part"
BAD_MULTIPART = "Malformed multipart/form-data body: {reason}"
TOO_MANY_FILES = "At most {limit} files per request"
BODY_CUT_OFF = "Upload body cut off before its closing boundary; nothing was stored"
UPLOAD_TOO_LARGE = "File is larger than the upload limit of {limit} bytes"
STORAGE_FULL = "Not enough disk space for the vault; nothing was stored"
SHARE_SELF = "Cannot share a file with yourself"
RANGE_NOT_SATISFIABLE = "Range not satisfiable: the file has {size} bytes"
FORBIDDEN_HOST = "Forbidden: Host {host!r} is not this server; use {url}"
FORBIDDEN_ORIGIN = "Forbidden: cross-site request from origin {origin!r}"
SHUTTING_DOWN = "Server is shutting down; nothing was stored, retry later"
HEAD_TOO_LARGE = "Request head too large: at most {limit} bytes of request line and headers"
SERVER_BUSY = "Server busy: too many connections at work, retry later"
STORED_UNREADABLE = "The stored file cannot be read by the server; the server log has the details"
INTERNAL_ERROR = "Internal server error; the server log has the details"

# JSON examples named in NOT_JSON, per endpoint
EXAMPLES = {
    "/login": '{"username": "han", "password": "han123"}',
    "/register": '{"username": "han1", "password": "han123"}',
    "/share": '{"file_id": "20", "user_destination_id": "2"}',
    "/unshare": '{"file_id": "20", "user_destination_id": "2"}',
    "/download": '{"file_id": "23"}',
    "/delete": '{"file_id": "23"}',
}

JSON_LIMIT = 64 * 1024
"""Largest JSON body accepted (413 beyond)."""

COOKIE = "vault_session"
"""The session cookie: HttpOnly, SameSite=Strict, holding the same token the CLI uses."""

DEVICE_COOKIE = "vault_device"
"""The device cookie (HttpOnly, SameSite=Strict, Path=/login): a random token handed out after
each successful login or registration; the client that holds it is exempt from its account's
lockout while others guess (vault/core/throttle.py)."""
