"""RPC URLs: parsing, and showing them in messages without what providers keep secret in them (credentials,
API keys in the path or query)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from vaultexec.errors import ConfigurationError


def parse_rpc_url(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, host, port, path with query) of an http(s) URL; ConfigurationError naming the URL (without
    credentials or path) when it is not one."""
    example = "give e.g. http://127.0.0.1:8545"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port that is not a number 0-65535, a broken [IPv6] host
        raise ConfigurationError(f"RPC URL {redact_url(url)!r} is not a valid URL ({_url_problem(exc, url)}); "
                                 f"{example}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"RPC URL {redact_url(url)!r} is not an http(s) URL; {example}")
    return parts.scheme, parts.hostname, port, (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _url_problem(exc: ValueError, url: str) -> str:
    """What urlsplit found wrong, in our words: its own message may quote a piece of a password."""
    text = str(exc)
    problem = ("its port is not a number" if "could not be cast" in text
               else "its port is outside 0-65535" if "out of range" in text
               else "its [IPv6] host is not valid" if "IPv6" in text
               else "it cannot be parsed")
    if "@" in url:
        problem += "; a user name or password holding / ? # or @ must be percent-encoded (%2F %3F %23 %40)"
    return problem


def redact_url(url: str) -> str:
    """The URL's host and port as the user wrote them, without credentials, path or query (providers often
    put API keys there); for text that is not scheme://host, the same, with "/..." when something was cut.
    Credentials end at the last "@": a password that is not percent-encoded may hold "/", "?" or "#"."""
    text = url.strip()
    scheme, separator, rest = text.partition("://")
    if separator and scheme and rest:
        return f"{scheme}://{_authority(rest)}"
    after_credentials = text.rpartition("@")[2]
    host = _authority(text)
    return host + ("/..." if len(host) < len(after_credentials) else "")


def _authority(text: str) -> str:
    """host[:port] of `text` (no scheme): after its last "@", up to the first character no host or port holds."""
    return re.split(r"[/?#&;=]", text.rpartition("@")[2], maxsplit=1)[0]
