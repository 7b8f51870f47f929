"""Transaction claims: a tx hash, or a (chain, wallet, nonce), belongs to one stored trade (issue 13, item 1)."""

from __future__ import annotations

import copy
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
import redis

from vaultexec.errors import StoreTransitionError, TransactionClaimedError
from vaultexec.model.serialisation import dump_json
from vaultexec.store.protocol import ExecutionStore
from vaultexec.store.redis import RedisStore
from vaultexec.store.sqlite import SQLiteStore

from store_samples import CHAIN_ID, SENDER, T0, VAULT, broadcasted, make_trade, signed_tx, started  # isort: skip


def test_a_second_trade_with_the_same_tx_hash_is_refused(store: ExecutionStore) -> None:
    """Two executors signed byte-identical transactions for trades #1 and #101: only the first is stored."""
    first = started(make_trade(), nonce=500)
    twin = started(make_trade(), nonce=500)
    store.create(first)
    with pytest.raises(TransactionClaimedError, match=rf"trade {first.trade_id}\b"):
        store.create(twin)
    assert store.count() == 1
    with pytest.raises(TransactionClaimedError):
        store.create_many([twin])
    assert store.count() == 1


def test_the_same_nonce_under_another_hash_is_refused(store: ExecutionStore) -> None:
    store.create(started(make_trade(), nonce=501))
    other = make_trade()
    other.set_blockchain_transactions([signed_tx(501, tx_hash="0x" + "cd" * 32)])
    other.mark_started(T0 + timedelta(seconds=1))
    with pytest.raises(TransactionClaimedError, match=rf"nonce 501 of wallet {SENDER} on chain {CHAIN_ID}"):
        store.create(other)


def test_an_update_taking_another_trades_hash_is_refused(store: ExecutionStore) -> None:
    """A replacement (same trade, new hash) is fine; a hash another trade holds is not, on update and in batches."""
    holder = started(make_trade(), nonce=502)
    trade = started(make_trade(), nonce=503)
    store.create_many([holder, trade])
    stolen = broadcasted(copy.deepcopy(trade))
    stolen.blockchain_transactions[0].set_signed(holder.blockchain_transactions[0].tx_hash or "", "0x02", 503)
    with pytest.raises(TransactionClaimedError):
        store.update(stolen)
    with pytest.raises(TransactionClaimedError):
        store.update_many([stolen])
    assert store.load(trade.trade_id) == trade
    replaced = broadcasted(copy.deepcopy(trade))
    replaced.blockchain_transactions[0].set_signed("0x" + "ee" * 32, "0x02", 503)
    store.update(replaced)
    assert store.load(trade.trade_id) == replaced


def test_a_batch_claiming_one_hash_twice_writes_nothing(store: ExecutionStore) -> None:
    batch = [started(make_trade(opened_at=T0 + timedelta(seconds=n)), nonce=600 + n) for n in range(3)]
    batch.append(started(make_trade(), nonce=601))
    with pytest.raises(TransactionClaimedError):
        store.create_many(batch)
    assert store.count() == 0


def test_claims_span_the_vaults_of_one_backend(store: ExecutionStore, other_store: ExecutionStore) -> None:
    """One hot wallet serving two vaults in one file / one Redis: a nonce is still used once."""
    store.create(started(make_trade(), nonce=700))
    with pytest.raises(TransactionClaimedError, match="of vault 0x"):
        other_store.create(started(make_trade(), nonce=700))


def test_highest_nonce_of_a_wallet(store: ExecutionStore) -> None:
    highest = store.highest_nonce
    assert highest(CHAIN_ID, SENDER) is None
    store.create_many([started(make_trade(), nonce=n) for n in (5, 12, 9)])
    assert highest(CHAIN_ID, SENDER.upper().replace("0X", "0x")) == 12
    assert highest(CHAIN_ID + 1, SENDER) is None


def test_opening_a_schema_1_file_indexes_its_claims(tmp_path: Path) -> None:
    """Migration on open: the claims of records written before claims existed are indexed (a clash is kept
    by the earlier trade), so a later trade reusing one is refused."""
    path = tmp_path / "old.db"
    SQLiteStore(path, VAULT).close()
    first, twin = started(make_trade(), nonce=800), started(make_trade(), nonce=800)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE tx_claims")
        conn.execute("PRAGMA user_version=1")
        for trade in (first, twin):
            conn.execute("INSERT INTO trades VALUES (?, ?, ?, ?, ?)",
                         (VAULT, trade.trade_id, 0, "started", dump_json(trade)))
    conn.close()
    with SQLiteStore(path, VAULT) as store:
        assert store.highest_nonce(CHAIN_ID, SENDER) == 800
        with pytest.raises(TransactionClaimedError, match=rf"belongs to trade {first.trade_id}\b"):
            store.create(started(make_trade(), nonce=800))


@pytest.mark.parametrize("batched", [False, True])
def test_a_trade_closed_without_its_tx_mined_gives_its_nonce_up(store: ExecutionStore, batched: bool) -> None:
    """Refused at broadcast (nothing executed): failed, never mined; the next batch may sign that nonce. Its hash
    stays claimed. A trade whose transaction was mined keeps its nonce."""
    refused = started(make_trade(), nonce=900)
    store.create(refused)
    closed = copy.deepcopy(refused)
    closed.mark_failed(T0 + timedelta(seconds=5))
    store.update_many([closed]) if batched else store.update(closed)
    again = make_trade()
    again.set_blockchain_transactions([signed_tx(900, tx_hash="0x" + "9a" * 32)])  # the nonce again, another hash
    again.mark_started(T0 + timedelta(seconds=1))
    store.create(again)
    assert store.nonce_holder(CHAIN_ID, SENDER, 900) == (VAULT, again.trade_id)
    with pytest.raises(TransactionClaimedError, match="already belongs to trade"):
        store.create(started(make_trade(), nonce=900))  # the refused trade's hash: still claimed


def test_a_redis_vault_stored_before_claims_gets_them_indexed(redis_client: redis.Redis) -> None:
    """Migration on open: records written without claims (as before issue 13) are indexed once per vault."""
    first = started(make_trade(), nonce=950)
    with RedisStore(redis_client, VAULT) as old:
        old.create(first)
    for key in redis_client.keys("vaultexec:claim:*") + redis_client.keys("vaultexec:wallet_nonce:*"):
        redis_client.delete(key)
    redis_client.delete(f"vaultexec:{VAULT}:claims_indexed")
    store = RedisStore(redis_client, VAULT)
    assert store.highest_nonce(CHAIN_ID, SENDER) == 950
    assert store.nonce_holder(CHAIN_ID, SENDER, 950) == (VAULT, first.trade_id)
    with pytest.raises(TransactionClaimedError, match=rf"belongs to trade {first.trade_id}\b"):
        store.create(started(make_trade(), nonce=950))


@pytest.mark.parametrize("batched", [False, True])
def test_sqlite_update_checks_hashes_through_the_claims_index(sqlite_path: Path, batched: bool) -> None:
    """Issue 14: an update reads the stored record's hashes from `tx_claims`, never by decoding its body. Shown
    with a body no decoder accepts: the hash check still refuses a dropped hash, and a full record that keeps
    every hash replaces it."""
    store = SQLiteStore(sqlite_path, VAULT)
    trade = started(make_trade(), nonce=1000)
    store.create(trade)
    with sqlite3.connect(sqlite_path) as raw:
        raw.execute("UPDATE trades SET body='{not json' WHERE trade_id=?", (trade.trade_id,))
    raw.close()
    forgetful = broadcasted(copy.deepcopy(trade))
    forgetful.blockchain_transactions[0].set_signed("0x" + "f1" * 32, "0x02", 1000)
    forgetful.blockchain_transactions[0].replaced_tx_hashes = []
    write = store.update_many if batched else (lambda trades: store.update(trades[0]))
    with pytest.raises(StoreTransitionError, match=r"drops transaction hash"):
        write([forgetful])
    kept = broadcasted(copy.deepcopy(trade))
    write([kept])
    assert store.load(trade.trade_id) == kept
    store.close()


def test_opening_a_schema_2_file_indexes_claims_by_trade(tmp_path: Path) -> None:
    """Migration on open (schema 3): the per-trade index of `tx_claims` is built for a file written without it."""
    path = tmp_path / "v2.db"
    SQLiteStore(path, VAULT).close()
    trade = started(make_trade(), nonce=1001)
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX tx_claims_by_trade")
        conn.execute("PRAGMA user_version=2")
    conn.close()
    with SQLiteStore(path, VAULT) as store:
        store.create(trade)
        store.update(broadcasted(copy.deepcopy(trade)))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        plan = " ".join(str(row) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT claim FROM tx_claims WHERE vault=? AND trade_id=?", (VAULT, 1)))
    conn.close()
    assert "tx_claims_by_trade" in plan


def test_redis_update_of_a_record_this_store_wrote_decodes_nothing(redis_client: redis.Redis,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 14: the hash check reads the claims this store wrote with the record (known by the body's SHA-1)
    instead of decoding it; a record another writer changed, or one written before this store opened, is
    decoded and checked as before."""
    import vaultexec.store.redis as redis_store

    decoded: list[int] = []
    real_decode = redis_store.decode

    def counting(body: bytes | str | None, vault: str, trade_id: int, where: str) -> object:
        decoded.append(trade_id)
        return real_decode(body, vault, trade_id, where)

    monkeypatch.setattr(redis_store, "decode", counting)
    store = RedisStore(redis_client, VAULT)
    batch = [started(make_trade(), nonce=1100 + n) for n in range(3)]
    store.create_many(batch)
    store.update_many([broadcasted(copy.deepcopy(t)) for t in batch])
    store.update(broadcasted(copy.deepcopy(batch[0])))
    assert decoded == []
    fresh = RedisStore(redis_client, VAULT)  # knows nothing it wrote: decodes, and refuses a dropped hash
    forgetful = broadcasted(copy.deepcopy(batch[1]))
    forgetful.blockchain_transactions[0].set_signed("0x" + "f2" * 32, "0x02", 1101)
    forgetful.blockchain_transactions[0].replaced_tx_hashes = []
    with pytest.raises(StoreTransitionError, match="drops transaction hash"):
        fresh.update_many([forgetful])
    assert decoded == [batch[1].trade_id]
    with pytest.raises(StoreTransitionError, match="drops transaction hash"):
        store.update(forgetful)  # from the claims it wrote itself
