"""Redis store URLs: the `durability` option, passwords kept out of messages, and the client they open."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from vaultexec.errors import BadInputError

#: `durability`: "strict" refuses a server that may lose acknowledged writes, "relaxed" only warns.
STRICT, RELAXED = "strict", "relaxed"
DURABILITY_OPTION = "durability"


def connect(url: str, socket_timeout: float = 5.0) -> redis.Redis:
    """A client that fails fast (no silent retries) and reconnects on the next call after an outage."""
    try:
        return redis.Redis.from_url(url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout,
                                    retry=Retry(NoBackoff(), 0))
    except ValueError as exc:
        raise BadInputError(f"Redis store URL {without_password(url)!r} is not valid: {exc}") from exc


def without_password(url: str) -> str:
    """`url` with the password of its userinfo (if any) replaced by `***`, for messages."""
    try:
        parts = urlsplit(url)
        if parts.password is None:
            return url
        user = parts.username or ""
        host = parts.netloc.rsplit("@", 1)[1]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return "<unparseable URL>"


def split_durability(url: str) -> tuple[str, str]:
    """The URL without its `durability` query option (redis-py would refuse it), and that option."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    chosen = [value for name, value in query if name == DURABILITY_OPTION]
    if not chosen:
        return url, STRICT
    rest = urlencode([(name, value) for name, value in query if name != DURABILITY_OPTION])
    return urlunsplit(parts._replace(query=rest)), chosen[-1]
