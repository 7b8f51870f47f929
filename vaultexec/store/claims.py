"""Transaction claims: each tx hash and each (chain, wallet, nonce) belongs to one stored trade at most.

Two executors on one hot wallet can sign byte-identical transactions for two trades (same nonce, same
calldata, so the same hash): one execution on chain, two trades marked success. The store refuses that
write. Claims are kept beside the records (SQLite table `tx_claims`, Redis keys `{prefix}:claim:<claim>`) so
the check reads only the claims, never a trade's body:

- `tx:<hash>`                             a transaction hash (replaced hashes included), lower-case
- `nonce:<chain>:<wallet>:<nonce>`        the nonce zero-padded to 78 digits, so text order is numeric order

The owner of a claim is `<vault>:<trade id>`: a trade may write its own claims again (updates).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence

from vaultexec.errors import TransactionClaimedError
from vaultexec.store.codec import StoredRow

#: Digits of a padded nonce: 2**256 - 1 has 78.
NONCE_DIGITS = 78


def owner_of(vault: str, trade_id: int) -> str:
    return f"{vault}:{trade_id}"


def nonce_prefix(chain_id: int, wallet: str) -> str:
    """The claim prefix of every nonce of one wallet on one chain."""
    return f"nonce:{chain_id}:{wallet.lower()}:"


def claims_of(row: StoredRow) -> list[str]:
    """Every claim a stored row makes, sorted (hashes, then nonces)."""
    hashes = [f"tx:{tx_hash}" for tx_hash in row.tx_hashes]
    nonces = [f"{nonce_prefix(chain, wallet)}{nonce:0{NONCE_DIGITS}d}" for chain, wallet, nonce in row.nonces]
    return sorted(hashes) + sorted(nonces)


def hashes_of_claims(claims: Iterable[str]) -> frozenset[str]:
    """The transaction hashes among `claims` (lower-case, as claimed)."""
    return frozenset(claim[3:] for claim in claims if claim.startswith("tx:"))


def nonce_of_claim(claim: str) -> int:
    """The nonce of a `nonce:` claim."""
    return int(claim.rsplit(":", 1)[1])


def describe_claim(claim: str) -> str:
    if claim.startswith("tx:"):
        return f"transaction {claim[3:]}"
    _, chain, wallet, nonce = claim.split(":")
    return f"nonce {int(nonce)} of wallet {wallet} on chain {chain}"


def check_claims(vault: str, rows: Iterable[StoredRow], owners: Mapping[str, str | None]) -> None:
    """TransactionClaimedError if a claim of `rows` is owned by another trade (`owners`: claim -> stored owner,
    None when free) or made twice within the batch."""
    taken = dict(owners)
    for row in rows:
        mine = owner_of(vault, row.trade_id)
        for claim in claims_of(row):
            holder = taken.get(claim)
            if holder is not None and holder != mine:
                raise claimed_error(vault, row.trade_id, claim, holder)
            taken[claim] = mine


def claimed_error(vault: str, trade_id: int, claim: str, holder: str) -> TransactionClaimedError:
    other_vault, _, other_trade = holder.rpartition(":")
    whose = f"trade {other_trade}" + ("" if other_vault == vault else f" of vault {other_vault}")
    return TransactionClaimedError(
        f"Trade {trade_id} of vault {vault}: its {describe_claim(claim)} already belongs to {whose}; nothing was "
        "written. Two executors signed the same transaction for different trades (a second executor on the "
        "same hot wallet, or the same trades planned again under new ids): one execution on chain cannot "
        "settle two trades. Run one executor per vault and wallet, then resume().")


def released_claims(row: StoredRow, before: StoredRow) -> list[str]:
    """The claims the stored record `before` made that its update `row` no longer makes."""
    return sorted(set(claims_of(before)) - set(claims_of(row)))


def redis_spec(vault: str, rows: Sequence[StoredRow], fences: Sequence[tuple[str, str]], claim_prefix: str,
               nonce_prefix: str, claims: bool = True, release: Sequence[str] = ()) -> str:
    """The JSON spec the Redis write scripts check and apply (see `redis_lua.GUARD_LUA`); one owner, so
    `rows` is one trade unless `claims` is False (only the highest nonces are recorded then)."""
    maxes: dict[str, str] = {}
    for row in rows:
        for chain, wallet, nonce in row.nonces:
            field, padded = f"{chain}:{wallet}", f"{nonce:0{NONCE_DIGITS}d}"
            maxes[field] = max(maxes.get(field, padded), padded)
    owned = claims and len(rows) == 1
    return json.dumps({
        "fences": [list(fence) for fence in fences],
        "claims": claims_of(rows[0]) if owned else [],
        "release": list(release) if owned else [],
        "owner": owner_of(vault, rows[0].trade_id) if owned else "",
        "claim_prefix": claim_prefix, "nonce_prefix": nonce_prefix,
        "maxes": [list(item) for item in sorted(maxes.items())]})
