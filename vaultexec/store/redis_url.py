"""Redis store URLs: the `durability` option, passwords kept out of messages, the client they open, and the
check of the server's persistence that `durability` governs."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from vaultexec.errors import BadInputError, ConfigurationError

logger = logging.getLogger(__name__)

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


def server_name(client: redis.Redis) -> str:
    """"Redis host:port/db" (or the socket path) of `client`, for messages."""
    kwargs = client.connection_pool.connection_kwargs
    place = kwargs.get("path") or f"{kwargs.get('host')}:{kwargs.get('port')}"
    return f"Redis {place}/{kwargs.get('db')}"


def persistence_settings(client: redis.Redis) -> dict[str, str] | None:
    """appendonly / appendfsync as CONFIG GET gives them; None (with a warning) if CONFIG is refused."""
    try:
        raw = client.config_get("append*")
    except redis.ResponseError as exc:  # managed Redis: CONFIG renamed, disabled or not in the ACL
        logger.warning("%s refuses CONFIG GET (%s): cannot check that writes are on disk before they are "
                       "acknowledged; make sure the server runs with appendonly yes and appendfsync "
                       "always", server_name(client), exc)
        return None
    return {_text(name): _text(value) for name, value in raw.items()}


def check_persistence(settings: dict[str, str] | None, durability: str, server: str, vault: str) -> None:
    """Refuse (ConfigurationError) or, `durability` relaxed, warn about a server that acknowledges writes
    before they are on disk; nothing to check when the settings could not be read (None)."""
    if settings is None:
        return
    appendonly, appendfsync = settings.get("appendonly"), settings.get("appendfsync")
    if appendonly == "yes" and appendfsync == "always":
        return
    found = f"appendonly {appendonly}, appendfsync {appendfsync}"
    if durability == RELAXED:
        logger.warning("%s runs with %s: acknowledged writes of vault %s can be lost in a crash "
                       "(durability=relaxed accepted that)", server, found, vault)
        return
    raise ConfigurationError(
        f"{server} runs with {found}: it acknowledges writes before they are on disk, so a crash "
        "could lose the write-ahead record of a signed transaction. Configure the server with "
        "`appendonly yes` and `appendfsync always` (redis.conf, or CONFIG SET both then CONFIG REWRITE), "
        "or accept the risk by opening the store with `?durability=relaxed` in its URL "
        "(RedisStore(..., durability=\"relaxed\")).")


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
