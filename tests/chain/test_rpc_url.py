"""A malformed RPC URL is a ConfigurationError that shows the URL as given, without credentials or path."""

from __future__ import annotations

import pytest

from vaultexec.chain.rpc import RPCClient
from vaultexec.errors import ConfigurationError


@pytest.mark.parametrize(("url", "shown", "why"), [
    ("http://localhost:abc", "'http://localhost:abc'", "its port is not a number"),
    ("http://user:s3cret@localhost:abc/v3/KEYKEY", "'http://localhost:abc'", "its port is not a number"),
    ("https://rpc.example:99999/", "'https://rpc.example:99999'", "its port is outside 0-65535"),
    ("http://[::1", "'http://[::1'", "its [IPv6] host is not valid"),
    # a password holding "/" (not percent-encoded): urlsplit takes "user:s3" for host and port
    ("https://user:s3/cret@rpc.example/v3/KEYKEY", "'https://rpc.example'", "must be percent-encoded"),
    ("https://user:s3?cret@rpc.example/v3/KEYKEY", "'https://rpc.example'", "must be percent-encoded"),
    ("notaurl", "'notaurl'", "not an http(s) URL"),
    ("localhost:8545", "'localhost:8545'", "not an http(s) URL"),
    ("mainnet.example/v3/KEYKEY", "'mainnet.example/...'", "not an http(s) URL"),
    ("ws://user:s3cret@node:8546/KEYKEY", "'ws://node:8546'", "not an http(s) URL"),
])
def test_malformed_rpc_url_is_a_configuration_error(url: str, shown: str, why: str) -> None:
    with pytest.raises(ConfigurationError) as raised:
        RPCClient(url)
    message = str(raised.value)
    assert f"RPC URL {shown} " in message and why in message and "http://127.0.0.1:8545" in message
    assert "s3" not in message and "cret" not in message and "KEYKEY" not in message


def test_valid_url_is_shown_without_credentials_or_path() -> None:
    assert repr(RPCClient("https://user:s3cret@rpc.example:8443/v3/KEYKEY?x=1")) == "RPCClient('https://rpc.example:8443')"
    assert repr(RPCClient("http://[::1]:8545/")) == "RPCClient('http://[::1]:8545')"


def test_credentials_end_at_the_last_at_sign_and_an_at_sign_in_the_query_shows_no_key() -> None:
    assert repr(RPCClient("https://user:12/s3cret@rpc.example/v3/KEYKEY")) == "RPCClient('https://rpc.example')"
    shown = repr(RPCClient("https://rpc.example/v3/KEYKEY?user=me@mail.example&key=S3CRET"))
    assert "KEYKEY" not in shown and "S3CRET" not in shown and "me" not in shown.split("//")[1]
