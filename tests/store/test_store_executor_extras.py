"""A trade loaded from trade-executor JSON keeps its executor-only fields through a real store."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import redis

from vaultexec.dex.deployments import executor_router_map
from vaultexec.model import (
    trade_from_executor_dict,
    trade_to_executor_dict,
)
from vaultexec.model.serialisation import parse_json_text
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore

from store_samples import VAULT  # isort: skip

DATA = Path(__file__).parents[1] / "model" / "data"
FIXTURES = ["executor_v3_buy.json", "executor_v2_sell.json", "executor_v2_three_way_buy.json"]
#: The registry's Ethereum Uniswap deployments: the fixtures' factories map to their routers.
MAINNET = executor_router_map()


def executor_dicts() -> list[dict[str, Any]]:
    return [parse_json_text((DATA / name).read_text()) for name in FIXTURES]


def check_round_trip(store: ExecutionStore) -> None:
    originals = executor_dicts()
    assert len({data["trade_id"] for data in originals}) == len(originals)
    for data in originals:
        store.create(trade_from_executor_dict(data, MAINNET))
    for data in originals:
        assert trade_to_executor_dict(store.load(data["trade_id"])) == data


def test_sqlite_store_keeps_executor_fields(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "s.db", VAULT)
    try:
        check_round_trip(store)
    finally:
        store.close()
    reopened = SQLiteStore(tmp_path / "s.db", VAULT)
    try:
        data = executor_dicts()[0]
        assert trade_to_executor_dict(reopened.load(data["trade_id"])) == data
    finally:
        reopened.close()


@pytest.mark.usefixtures("redis_server")
def test_redis_store_keeps_executor_fields(redis_client: redis.Redis) -> None:
    store = RedisStore(redis_client, VAULT)
    check_round_trip(store)
