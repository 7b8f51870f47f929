"""Property: the swap's amountOutMin, the vault's minReceive and the model's delta are one number."""

from __future__ import annotations

from decimal import Decimal

from eth_abi.abi import decode
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_routing_helpers import make_trade, world_pairs
from web3 import Web3
from web3.contract import Contract

from vaultexec.dex import erc20, uniswap_v2, uniswap_v3
from vaultexec.execution import VaultRouting
from vaultexec.testing.world import World

ROUTES = ["v2", "v2_router02", "v2_three_way", "v3", "v3_router02", "v3_two_hop", "v3_two_hop_v1"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
# Sizes and tolerances the world vault's oracle loss bound (5 % per execute) can pass: at its minimum receive
# a trade loses at most tolerance + LP fees + price impact (+ raw-unit rounding on dust), and a plan beyond the
# cap is refused before encoding (tests/execution/test_routing_loss_bound.py).
@given(route=st.sampled_from(ROUTES), buy=st.booleans(),
       usd=st.decimals(min_value=Decimal(1), max_value=Decimal(20_000), places=6),
       tolerance=st.decimals(min_value=Decimal(0), max_value=Decimal("0.02"), places=6))
def test_min_out_is_one_number(web3: Web3, world: World, vault: Contract, asset_manager: LocalAccount,
                               route: str, buy: bool, usd: Decimal, tolerance: Decimal) -> None:
    pairs = world_pairs(world)
    routing = VaultRouting(web3, vault.address, asset_manager.address, list(pairs.values()))
    trade = make_trade(1, pairs[route], usd, buy=buy, tolerance=tolerance)
    plan = routing.plan_trades([trade]).plans[0]

    calls, spends, receives = decode(["(address,bytes)[]", "(address,uint256)[]", "(address,uint256)[]"],
                                     plan.vault_calldata[4:])
    (approve_target, approve_data), (router, swap_data) = calls
    ((spend_asset, max_spend),) = spends
    ((receive_asset, min_receive),) = receives
    approve_target, router = to_checksum_address(approve_target), to_checksum_address(router)
    spend_asset, receive_asset = to_checksum_address(spend_asset), to_checksum_address(receive_asset)
    if swap_data[:4] in (uniswap_v2.SWAP_EXACT_TOKENS, uniswap_v2.SWAP_EXACT_TOKENS_ROUTER02):
        amount_in, amount_out_min, path, recipient, _ = uniswap_v2.decode_swap_exact_tokens_for_tokens(swap_data)
    else:
        amount_in, amount_out_min, path, _, recipient, _ = uniswap_v3.decode_exact_input(swap_data)
    spend, receive = trade.calculate_asset_deltas()

    assert amount_out_min == min_receive == receive.raw_amount == plan.amount_out_min_raw
    assert amount_in == max_spend == -spend.raw_amount
    assert approve_data == erc20.encode_approve(router, amount_in), "exact approval, never infinite"
    assert approve_target == spend_asset == path[0] and receive_asset == path[-1]
    assert recipient == vault.address
