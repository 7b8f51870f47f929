"""Leases on one process's view: refused second holder, fencing of a paused holder, crashed holder (issue 13)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from vaultexec.errors import LeaseHeldError, LeaseLostError
from vaultexec.store.lease import REDIS_LEASE_PREFIX, hold_leases
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore
from vaultexec.testing.redis import RedisServer

from store_samples import CHAIN_ID, SENDER, VAULT, broadcasted, make_trade, started  # isort: skip

WALLET_KEY = f"{REDIS_LEASE_PREFIX}:{CHAIN_ID}:wallet:{SENDER}"


def test_sqlite_second_holder_is_refused_and_named(sqlite_path: Path) -> None:
    with SQLiteStore(sqlite_path, VAULT) as store, SQLiteStore(sqlite_path, VAULT) as twin:
        with hold_leases(store, CHAIN_ID, VAULT, SENDER):
            with (pytest.raises(LeaseHeldError, match=rf"Vault {VAULT} on chain {CHAIN_ID} is leased") as caught,
                  hold_leases(twin, CHAIN_ID, VAULT, SENDER)):
                pytest.fail("two holders")
            assert caught.value.holder.startswith(f"host {socket.gethostname()}, pid ")
            # another vault on the same wallet: the wallet lease refuses it
            with (pytest.raises(LeaseHeldError, match=f"Hot wallet {SENDER}"),
                  hold_leases(twin, CHAIN_ID, "0x" + "77" * 20, SENDER)):
                pytest.fail("two holders of one wallet")
        with hold_leases(twin, CHAIN_ID, VAULT, SENDER):  # released on exit
            pass


def test_redis_second_holder_is_refused(redis_client: redis.Redis, redis_server: RedisServer) -> None:
    store, twin = RedisStore(redis_client, VAULT), RedisStore(redis.Redis.from_url(redis_server.url), VAULT)
    with hold_leases(store, CHAIN_ID, VAULT, SENDER):
        with (pytest.raises(LeaseHeldError, match=f"Redis key {REDIS_LEASE_PREFIX}:{CHAIN_ID}:vault:{VAULT}"),
              hold_leases(twin, CHAIN_ID, VAULT, SENDER)):
            pytest.fail("two holders")
        assert twin.fences == ()
    assert redis_client.keys(f"{REDIS_LEASE_PREFIX}:{CHAIN_ID}:*") == []
    with hold_leases(twin, CHAIN_ID, VAULT, SENDER):
        twin.create(started(make_trade()))


def test_redis_paused_holder_cannot_write_after_its_lease_passed(redis_client: redis.Redis,
                                                                 redis_server: RedisServer) -> None:
    """A holder paused past its expiry (the key gone) while another executor took the lease: its writes are
    refused by the fencing token, single and batched, and nothing of them is stored."""
    paused, other = RedisStore(redis_client, VAULT), RedisStore(redis.Redis.from_url(redis_server.url), VAULT)
    with hold_leases(paused, CHAIN_ID, VAULT, SENDER):
        stored = started(make_trade())
        paused.create(stored)
        redis_client.delete(*redis_client.keys(f"{REDIS_LEASE_PREFIX}:{CHAIN_ID}:*"))  # expired while paused
        with hold_leases(other, CHAIN_ID, VAULT, SENDER):
            with pytest.raises(LeaseLostError, match="is now held by"):
                paused.create(started(make_trade()))
            with pytest.raises(LeaseLostError):
                paused.create_many([started(make_trade()), started(make_trade())])
            broadcasted(stored)
            with pytest.raises(LeaseLostError):
                paused.update(stored)
            assert other.count() == 1


def test_redis_lease_of_a_crashed_process_on_this_host_is_taken_over(redis_client: redis.Redis) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    store = RedisStore(redis_client, VAULT)
    redis_client.set(WALLET_KEY, f"1|{socket.gethostname()}|{dead.stdout.strip()}|2026-01-01T00:00:00Z", px=60_000)
    with hold_leases(store, CHAIN_ID, VAULT, SENDER):
        assert redis_client.get(WALLET_KEY).decode().startswith(store.fences[1][1] + "|")  # type: ignore[union-attr]
    redis_client.set(WALLET_KEY, f"1|elsewhere|{dead.stdout.strip()}|2026-01-01T00:00:00Z", px=60_000)
    with pytest.raises(LeaseHeldError, match="host elsewhere"), hold_leases(store, CHAIN_ID, VAULT, SENDER):
        pytest.fail("took a lease held on another host")
    assert redis_client.keys(f"{REDIS_LEASE_PREFIX}:{CHAIN_ID}:vault:*") == []  # the vault lease taken first went back
