"""Which token goes to the storage: a narrowed one when the grid's issuer will exchange it.

Sending the user's full token to every storage would let any storage replay it anywhere
(WLCG common JWT profile: audience-restrict tokens). So the client asks the OneGrid server
for an RFC 8693 exchange: the storage scopes the operation needs, audience = the storage
URLs. A server or an account that cannot (no exchange endpoint, a token without an
audience wide enough) gets the user's own token sent instead, which our endpoint accepts
when its scopes cover the path.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from onegrid.client.base import Transport
from onegrid.errors import OneGridError

READ_SCOPES = "storage.read:/"
# Writing: create new files, modify to replace an orphan of an earlier failed attempt,
# read to verify. The issuer keeps only those the account holds.
WRITE_SCOPES = "storage.read:/ storage.create:/ storage.modify:/"


def audience_of(url: str) -> str:
    """The storage's service URL, the audience it checks (no path, no trailing slash)."""
    parts = urlsplit(url)
    scheme = {"davs": "https", "dav": "http"}.get(parts.scheme, parts.scheme)
    return f"{scheme}://{parts.netloc}"


def storage_token(transport: Transport, urls: Iterable[str], *, write: bool) -> str | None:
    """A token for the storages behind `urls`: exchanged and narrowed if possible, else
    the caller's own token (or None without one, for anonymous storages)."""
    own = transport.token
    audiences = sorted({audience_of(u) for u in urls if "://" in u and not u.startswith("file://")})
    if not own or not audiences:
        return own
    try:
        from onegrid.client.iam import IamClient

        exchange = getattr(IamClient(transport), "exchange_token", None)
        if exchange is None:
            return own
        issued = exchange(scope=WRITE_SCOPES if write else READ_SCOPES, audience=" ".join(audiences))
        return str(issued.get("access_token") or own)
    except (OneGridError, ValueError):
        return own
