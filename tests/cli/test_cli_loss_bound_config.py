"""Config parsing of the oracle guard (price feeds, TWAPs, loss bound) and the bounded-by-default rule."""

from __future__ import annotations

import pytest

from vaultexec.cli.commands.vaultcmds import refuse_unbounded
from vaultexec.cli.vaultconfig import config_from_flags, config_from_mapping, resolve_config
from vaultexec.errors import BadInputError
from vaultexec.vault.deploy import LossBound, PriceFeed, PriceTwap, SpendLimit, VaultConfig, unbounded_assets

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
WBTC = "0x" + "33" * 20
FEED = "0x" + "44" * 20
POOL = "0x" + "55" * 20
TOKENS = {"WETH": WETH, "USDC": USDC, "WBTC": WBTC}


def test_file_and_flags_resolve_to_sources_and_a_bound_rounded_down() -> None:
    request = config_from_mapping({
        "tokens": TOKENS, "assets": ["WETH", "WBTC"],
        "price_feeds": [{"asset": "WETH", "feed": FEED, "heartbeat": 3600}],
        "price_twaps": [{"asset": "WBTC", "pool": POOL, "window": 1800}],
        "loss_bound": {"cap_bps": 100, "budget": "10000.0000000000000000009", "refill_period": 86400}}, "cfg")
    config = resolve_config(request, lambda _: 18)
    checksum = {a.lower(): a for a in config.assets}
    assert config.price_feeds == [PriceFeed(checksum[WETH], config.price_feeds[0].feed, 3600)]
    assert config.price_twaps == [PriceTwap(checksum[WBTC], config.price_twaps[0].pool, 1800)]
    assert config.loss_bound == LossBound(100, 10_000 * 10**18, 86400)  # the budget is never rounded up
    assert unbounded_assets(config) == []

    flags = config_from_flags([f"USDC={USDC}"], ["USDC"], [], [], [], [f"USDC:{FEED}:86400"], "50:2500.5:3600")
    flagged = resolve_config(flags, lambda _: 6)
    assert flagged.loss_bound == LossBound(50, 2500 * 10**18 + 5 * 10**17, 3600)


@pytest.mark.parametrize(("data", "message"), [
    ({"loss_bound": {"cap_bps": 100}}, "write cap_bps = 100"),
    ({"loss_bound": [1]}, "`loss_bound` must be a table"),
    ({"price_feeds": [{"asset": "WETH", "feed": FEED}]}, "heartbeat = 3600"),
    ({"loss_bound": {"cap_bps": 100, "budget": 1.5, "refill_period": 1}}, "no floats"),
])
def test_bad_oracle_config_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        config_from_mapping(data, "cfg")


@pytest.mark.parametrize(("data", "message"), [
    ({"tokens": TOKENS, "loss_bound": {"cap_bps": 10_001, "budget": "1", "refill_period": 1}}, "within 0..10000"),
    ({"tokens": TOKENS, "price_twaps": [{"asset": "WBTC", "pool": POOL, "window": 60}]}, "minimum of 300s"),
    ({"tokens": TOKENS, "price_feeds": [{"asset": "WETH", "feed": "0x12", "heartbeat": 1}]}, "not an address"),
])
def test_out_of_range_oracle_settings_are_refused_before_sending(data: dict[str, object], message: str) -> None:
    with pytest.raises(BadInputError, match=message):
        resolve_config(config_from_mapping(data, "cfg"), lambda _: 18)


def test_an_asset_is_bounded_by_a_limit_or_by_a_price_under_a_bound() -> None:
    config = VaultConfig(assets=[WETH, USDC, WBTC], spend_limits=[SpendLimit(USDC, 1, 1)],
                         price_feeds=[PriceFeed(WETH, FEED, 1)])
    # A price without a loss bound bounds nothing.
    assert [a.lower() for a in unbounded_assets(config)] == [WETH, WBTC]
    config.loss_bound = LossBound(100, 1, 1)
    assert [a.lower() for a in unbounded_assets(config)] == [WBTC]
    with pytest.raises(BadInputError, match="sell all of it at a price it manipulated") as info:
        refuse_unbounded(unbounded_assets(config), allow_unbounded=False)
    assert "--allow-unbounded" in str(info.value) and "Nothing was sent" in str(info.value)
    assert refuse_unbounded([WBTC], allow_unbounded=True) == [WBTC]
    assert refuse_unbounded([], allow_unbounded=False) == []
