"""The Redis store's transaction claims and lease fences (see store/claims.py and store/lease.py).

A mixin of `RedisStore`: the claims hash, the wallets' highest nonces, the migration that indexes the claims
of records stored before claims existed, and the errors of a write the scripts refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import redis
from redis.commands.core import Script

from vaultexec.errors import LeaseLostError, StoreError
from vaultexec.store.claims import (
    NONCE_DIGITS,
    check_claims,
    claimed_error,
    claims_of,
    nonce_of_claim,
    nonce_prefix,
    owner_of,
    redis_spec,
)
from vaultexec.store.codec import StoredRow, decode, encode, trade_id_of_member

logger = logging.getLogger(__name__)


class RedisClaims:
    """Claims and fences of one vault's Redis store (attributes set by `RedisStore.__init__`)."""

    client: redis.Redis
    fences: tuple[tuple[str, str], ...]
    _vault: str
    _base: str
    _reports: str
    _claims: str
    _nonces: str
    _record_claims_script: Script

    def _call(self, what: str, operation: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _server(self) -> str:
        raise NotImplementedError

    def _where(self, trade_id: int) -> str:
        raise NotImplementedError

    def _spec(self, rows: Sequence[StoredRow], release: Sequence[str] = ()) -> str:
        return redis_spec(self._vault, rows, self.fences, self._claims, self._nonces, release=release)

    def _refused(self, trade_id: int, reply: list[Any]) -> StoreError:
        """The error of a write script's refusal: 3 = a claim is another trade's, 4 = a lease was lost."""
        if reply[0] == 3:
            return claimed_error(self._vault, trade_id, reply[1].decode(), reply[2].decode())
        held = reply[2].decode(errors="replace") if reply[2] else "nobody (it expired)"
        return LeaseLostError(
            f"Trade {trade_id} of vault {self._vault} was not written: this executor's lease {reply[1].decode()} "
            f"is now held by {held!r} (ours expired while this process was paused or cut off). Stop this "
            "executor; the lease holder carries on.")

    def _index_claims(self) -> None:
        """Migration: record the claims of this vault's trades stored before claims existed (once per vault)."""
        flag = f"{self._base}:claims_indexed"
        if self._call("read the claims flag", self.client.exists, flag):
            return
        bodies: dict[bytes, bytes] = self._call("read the vault's trades", self.client.hgetall, self._reports)
        rows: list[StoredRow] = []
        for member, body in bodies.items():
            trade_id = trade_id_of_member(member, self._vault, f"{self._server()} hash {self._reports}")
            try:
                rows.append(encode(decode(body, self._vault, trade_id, self._where(trade_id))))
            except StoreError as exc:
                logger.warning("indexing transaction claims: skipped %s", exc)
        for row in rows:  # SETNX: the first trade keeps a claim stored twice before claims were checked
            for claim in claims_of(row):
                owner = owner_of(self._vault, row.trade_id)
                self._call("index a claim", self.client.setnx, self._claims + claim, owner)
        if rows:
            self._call("index the highest nonces", self._record_claims_script, keys=[],
                       args=[redis_spec(self._vault, rows, (), self._claims, self._nonces, claims=False)])
        self._call("set the claims flag", self.client.set, flag, "1")

    def highest_nonce(self, chain_id: int, wallet: str) -> int | None:
        """The highest nonce any stored trade (of any vault under this prefix) signed for `wallet`."""
        value = self._call("read the highest nonce", self.client.get, f"{self._nonces}{chain_id}:{wallet.lower()}")
        return None if value is None else nonce_of_claim(":" + value.decode())

    def nonce_holder(self, chain_id: int, wallet: str, nonce: int) -> tuple[str, int] | None:
        """(vault, trade id) of the stored trade that signed `nonce` of `wallet` on `chain_id`, or None."""
        claim = f"{nonce_prefix(chain_id, wallet)}{nonce:0{NONCE_DIGITS}d}"
        owner = self._call("read a nonce claim", self.client.get, self._claims + claim)
        if owner is None:
            return None
        vault, _, trade_id = owner.decode().rpartition(":")
        return vault, int(trade_id)

    @staticmethod
    def _maxes(rows: Sequence[StoredRow]) -> dict[str, str]:
        """`chain:wallet` -> the highest padded nonce the rows sign for it."""
        maxes: dict[str, str] = {}
        for row in rows:
            for chain, wallet, nonce in row.nonces:
                field, padded = f"{chain}:{wallet}", f"{nonce:0{NONCE_DIGITS}d}"
                maxes[field] = max(maxes.get(field, padded), padded)
        return maxes

    def _guard_keys(self, rows: Sequence[StoredRow]) -> list[str]:
        """The keys a batch WATCHes beside its vault's: lease fences, its claims, its wallets' highest nonces."""
        claims = sorted({claim for row in rows for claim in claims_of(row)})
        return [*(key for key, _ in self.fences), *(self._claims + claim for claim in claims),
                *(self._nonces + field for field in self._maxes(rows))]

    def _check_batch_guard(self, pipe: Any, rows: list[StoredRow]) -> dict[str, str]:
        """The fences and claims of a batch, read under WATCH (as the write scripts check them); returns the
        wallets' highest nonces the batch raises (`chain:wallet` -> padded nonce), read under WATCH too."""
        for key, token in self.fences:
            held = pipe.get(key)
            if held is None or not held.decode(errors="replace").startswith(token + "|"):
                raise self._refused(rows[0].trade_id, [4, key.encode(), held])
        wanted = sorted({claim for row in rows for claim in claims_of(row)})
        found: list[Any] = pipe.mget([self._claims + claim for claim in wanted]) if wanted else []
        owners = {claim: value.decode() for claim, value in zip(wanted, found, strict=True) if value is not None}
        check_claims(self._vault, rows, owners)
        maxes = self._maxes(rows)
        current: list[Any] = pipe.mget([self._nonces + field for field in maxes]) if maxes else []
        return {field: padded for (field, padded), now in zip(maxes.items(), current, strict=True)
                if now is None or now.decode() < padded}
