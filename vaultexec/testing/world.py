"""The local "world": real Uniswap V2/V3 + WETH9 bytecode, our test tokens, pools at realistic prices.

`deploy_world(web3)` builds it in one call on an empty dev chain (anvil); `attach_world(web3, addresses)`
binds an existing one, e.g. on a fork of the chain it was deployed on. On a fork of a real chain the same
`World` type describes that chain's own Uniswap deployment and tokens instead (`testing.realchain`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from eth_typing import ChecksumAddress
from web3 import Web3
from web3.contract import Contract

from vaultexec.errors import ToolchainError
from vaultexec.testing.protocol import load_protocol_artifact
from vaultexec.testing.safes import deploy_safe_contracts
from vaultexec.vault.contracts import load_artifact

logger = logging.getLogger(__name__)

V3_FEE_TIERS: tuple[int, ...] = (500, 3000)
V3_TICK_SPACING: dict[int, int] = {100: 1, 500: 10, 3000: 60, 10000: 200}
V3_MAX_TICK = 887272
#: Code size limit for anvils holding the world: NonfungiblePositionManager is above EIP-170's 24 KiB.
CODE_SIZE_LIMIT = 100_000
DEPLOY_GAS = 15_000_000
CALL_GAS = 6_000_000
MAX_UINT256 = 2**256 - 1
#: Decimals of the world's price feeds (Chainlink's USD feeds have 8).
FEED_DECIMALS = 8
#: Observation slots of every world V3 pool: enough history for a TWAP across a test's swaps.
OBSERVATION_CARDINALITY = 100
#: Seconds the world's clock is moved on after building it, so that a TWAP of up to this window exists.
TWAP_WARMUP = 3600


@dataclass(frozen=True)
class TokenSpec:
    """A test token: symbol, decimals, its USD price, and the contract it is built from."""

    symbol: str
    decimals: int
    usd_price: Decimal
    kind: str  # "weth9" (npm WETH9), "test" (TestToken), "tether" (TetherLikeToken)


TOKENS: tuple[TokenSpec, ...] = (
    TokenSpec("USDC", 6, Decimal(1), "test"),
    TokenSpec("WETH", 18, Decimal(3000), "weth9"),
    TokenSpec("WBTC", 8, Decimal(60000), "test"),
    TokenSpec("DAI", 18, Decimal(1), "test"),
    TokenSpec("USDT", 6, Decimal(1), "tether"),
)

#: (token A, token B, USD value of each side) for every pool; V2 pairs and V3 pools at each fee tier.
POOLS: tuple[tuple[str, str, Decimal], ...] = (
    ("USDC", "WETH", Decimal(10_000_000)),
    ("WETH", "WBTC", Decimal(6_000_000)),
    ("USDC", "USDT", Decimal(5_000_000)),
    ("DAI", "USDC", Decimal(5_000_000)),
)


@dataclass
class WorldAddresses:
    """Every address of the world, JSON-friendly, so the world can be re-attached on a fork."""

    chain_id: int
    deployer: str
    tokens: dict[str, str]
    uniswap_v2_factory: str
    uniswap_v2_router: str
    uniswap_v3_factory: str
    swap_router: str
    swap_router02: str
    quoter_v2: str
    position_manager: str
    #: "USDC/WETH" -> V2 pair address (symbols in the order of POOLS)
    v2_pairs: dict[str, str] = field(default_factory=dict)
    #: "USDC/WETH/500" -> V3 pool address
    v3_pools: dict[str, str] = field(default_factory=dict)
    #: symbol -> decimals; a symbol missing here has the decimals of its `TOKENS` spec
    decimals: dict[str, int] = field(default_factory=dict)
    #: True: our local world (test tokens we can mint, pools at the prices of `POOLS`). False: a real
    #: chain's deployment on a fork: real tokens (funded with anvil_dealERC20), only the pools that exist.
    local: bool = True
    #: symbol -> USD price feed (local world: Chainlink's MockV3Aggregator at the token's `usd_price`,
    #: 8 decimals; a fork: the chain's real Chainlink feeds from `dex.deployments`)
    feeds: dict[str, str] = field(default_factory=dict)
    #: Safe 1.4.1 contracts (`testing.safes`): name -> address; empty on a fork (the canonical ones are used)
    safe: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class World:
    """Addresses plus ready contract objects, bound to one web3 connection.

    `addresses.local` tells what it is: our local world, or a real chain's deployment on a fork (then
    `tokens` holds the chain's registered tokens only, pools are the ones that exist, prices are the
    chain's, and `deployer` is a dev account that owns nothing but ETH).
    """

    web3: Web3
    addresses: WorldAddresses
    tokens: dict[str, Contract]
    uniswap_v2_factory: Contract
    uniswap_v2_router: Contract
    uniswap_v3_factory: Contract
    swap_router: Contract
    swap_router02: Contract
    quoter_v2: Contract
    position_manager: Contract
    #: accounts impersonated through `impersonate()`, until `stop_impersonating()`
    impersonated: set[str] = field(default_factory=set)

    @property
    def chain_id(self) -> int:
        return self.addresses.chain_id

    @property
    def is_local(self) -> bool:
        return self.addresses.local

    @property
    def feed_abi(self) -> list[dict[str, Any]]:
        abi: list[dict[str, Any]] = load_artifact("MockV3Aggregator")["abi"]
        return abi

    def feed(self, symbol: str) -> Contract:
        """The USD price feed of `symbol` (AggregatorV3Interface; on the local world also `updateAnswer`)."""
        if symbol not in self.addresses.feeds:
            raise KeyError(f"The world has no price feed for {symbol!r}; it has {', '.join(self.addresses.feeds)}")
        return _contract(self.web3, self.feed_abi, self.addresses.feeds[symbol])

    @property
    def deployer(self) -> ChecksumAddress:
        return Web3.to_checksum_address(self.addresses.deployer)

    @property
    def usdc(self) -> Contract:
        return self.tokens["USDC"]

    @property
    def weth(self) -> Contract:
        return self.tokens["WETH"]

    @property
    def wbtc(self) -> Contract:
        return self.tokens["WBTC"]

    @property
    def dai(self) -> Contract:
        return self.tokens["DAI"]

    @property
    def usdt(self) -> Contract:
        return self.tokens["USDT"]

    def token(self, symbol: str) -> Contract:
        try:
            return self.tokens[symbol]
        except KeyError:
            raise KeyError(f"The world has no token {symbol!r}; it has {', '.join(self.tokens)}") from None

    def decimals(self, symbol: str) -> int:
        if symbol in self.addresses.decimals:
            return self.addresses.decimals[symbol]
        self.token(symbol)  # a clear error for a symbol the world does not have
        return _SPECS[symbol].decimals

    def v2_pair(self, symbol_a: str, symbol_b: str) -> ChecksumAddress:
        return Web3.to_checksum_address(_lookup(self.addresses.v2_pairs, symbol_a, symbol_b))

    def v3_pool(self, symbol_a: str, symbol_b: str, fee: int) -> ChecksumAddress:
        return Web3.to_checksum_address(_lookup(self.addresses.v3_pools, symbol_a, symbol_b, str(fee)))

    def fund(self, symbol: str, to: str, raw_amount: int) -> None:
        """Give `to` `raw_amount` more tokens: WETH is wrapped by the deployer and sent; other tokens are
        minted (local world) or set with anvil_dealERC20 (real chain: balance + amount; totalSupply unchanged)."""
        token = self.token(symbol)
        recipient = Web3.to_checksum_address(to)
        if symbol == "WETH":
            _transact(self.web3, self.deployer, token.functions.deposit(), value=raw_amount)
            _transact(self.web3, self.deployer, token.functions.transfer(recipient, raw_amount))
        elif self.is_local:
            _transact(self.web3, self.deployer, token.functions.mint(recipient, raw_amount))
        else:
            balance = token.functions.balanceOf(recipient).call()
            _anvil_call(self.web3, "anvil_dealERC20", [recipient, token.address, hex(balance + raw_amount)])

    def impersonate(self, account: str) -> ChecksumAddress:
        """Let transactions be sent from `account` without its key. Impersonation survives `evm_revert`:
        the `world` fixture stops every account impersonated here after the test."""
        address = Web3.to_checksum_address(account)
        _anvil_call(self.web3, "anvil_impersonateAccount", [address])
        self.impersonated.add(address)
        return address

    def stop_impersonating(self) -> None:
        """Stop impersonating every account `impersonate()` started."""
        while self.impersonated:
            _anvil_call(self.web3, "anvil_stopImpersonatingAccount", [self.impersonated.pop()])


def make_web3(url: str) -> Web3:
    """A web3 connection with a generous timeout (anvil forks can be slow on first touch)."""
    return Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))


_SPECS: dict[str, TokenSpec] = {spec.symbol: spec for spec in TOKENS}


def _anvil_call(web3: Web3, method: str, params: list[Any]) -> Any:
    reply = web3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in reply:
        raise ToolchainError(f"{method} failed on the test node: {reply['error']}")
    return reply.get("result")


def _lookup(table: dict[str, str], a: str, b: str, *rest: str) -> str:
    for key in ("/".join([a, b, *rest]), "/".join([b, a, *rest])):
        if key in table:
            return table[key]
    raise KeyError(f"The world has no pool {'/'.join([a, b, *rest])}; it has {', '.join(table)}")


def _contract(web3: Web3, abi: list[dict[str, Any]], address: str) -> Contract:
    return web3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _token_abi(symbol: str) -> list[dict[str, Any]]:
    """The ABI for a world token: WETH9's, the no-return-value USDT's, else our ERC20 test token's."""
    kind = _SPECS[symbol].kind if symbol in _SPECS else "test"
    if kind == "weth9":
        return load_protocol_artifact("WETH9").abi
    abi: list[dict[str, Any]] = load_artifact("TetherLikeToken" if kind == "tether" else "TestToken")["abi"]
    return abi


def attach_world(web3: Web3, addresses: WorldAddresses) -> World:
    """Bind contract objects for an already deployed world (same chain or a fork of it)."""
    art = load_protocol_artifact
    return World(
        web3=web3,
        addresses=addresses,
        tokens={symbol: _contract(web3, _token_abi(symbol), address) for symbol, address in addresses.tokens.items()},
        uniswap_v2_factory=_contract(web3, art("UniswapV2Factory").abi, addresses.uniswap_v2_factory),
        uniswap_v2_router=_contract(web3, art("UniswapV2Router02").abi, addresses.uniswap_v2_router),
        uniswap_v3_factory=_contract(web3, art("UniswapV3Factory").abi, addresses.uniswap_v3_factory),
        swap_router=_contract(web3, art("SwapRouter").abi, addresses.swap_router),
        swap_router02=_contract(web3, art("SwapRouter02").abi, addresses.swap_router02),
        quoter_v2=_contract(web3, art("QuoterV2").abi, addresses.quoter_v2),
        position_manager=_contract(web3, art("NonfungiblePositionManager").abi, addresses.position_manager),
    )


def _transact(web3: Web3, sender: str, fn: Any, value: int = 0, gas: int = CALL_GAS) -> Any:
    """Send from an unlocked dev account and insist on success (the world must never half-deploy)."""
    tx_hash = fn.transact({"from": sender, "value": value, "gas": gas})
    receipt = web3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    if receipt["status"] != 1:
        what = getattr(fn, "fn_name", "constructor")
        raise ToolchainError(f"World deployment transaction {tx_hash.hex()} ({what}) reverted")
    return receipt


def _deploy(web3: Web3, sender: str, abi: list[dict[str, Any]], bytecode: str, *args: Any) -> str:
    factory = web3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = _transact(web3, sender, factory.constructor(*args), gas=DEPLOY_GAS)
    address: str = receipt["contractAddress"]
    return address


def _deploy_npm(web3: Web3, sender: str, name: str, *args: Any) -> str:
    artifact = load_protocol_artifact(name)
    return _deploy(web3, sender, artifact.abi, artifact.bytecode, *args)


def _raw(amount: Decimal, decimals: int) -> int:
    return int((amount * (Decimal(10) ** decimals)).to_integral_value())


def _sqrt_price_x96(amount0_raw: int, amount1_raw: int) -> int:
    """sqrt(token1 per token0, raw units) in Q64.96, for pool initialisation."""
    return math.isqrt((amount1_raw << 192) // amount0_raw)


def deploy_world(web3: Web3, deployer: str | None = None,
                 progress: Callable[[str], None] | None = None) -> World:
    """Deploy the whole world from the deployer (default: the node's first unlocked account)."""
    started = time.monotonic()
    say = progress or (lambda message: logger.info("%s", message))
    sender = Web3.to_checksum_address(deployer or web3.eth.accounts[0])
    chain_id = web3.eth.chain_id
    # Enough ETH to wrap into all WETH liquidity.
    web3.provider.make_request("anvil_setBalance", [sender, hex(10**9 * 10**18)])  # type: ignore[arg-type]

    say("deploying WETH9 and test tokens")
    token_addresses: dict[str, str] = {}
    for spec in TOKENS:
        if spec.kind == "weth9":
            token_addresses[spec.symbol] = _deploy_npm(web3, sender, "WETH9")
        else:
            artifact = load_artifact("TetherLikeToken" if spec.kind == "tether" else "TestToken")
            ctor_args: tuple[Any, ...] = (
                (f"Tether-like {spec.symbol}", spec.symbol) if spec.kind == "tether"
                else (f"Test {spec.symbol}", spec.symbol, spec.decimals)
            )
            token_addresses[spec.symbol] = _deploy(web3, sender, artifact["abi"], artifact["bytecode"], *ctor_args)
    weth = token_addresses["WETH"]

    say("deploying Uniswap V2 and V3")
    v2_factory = _deploy_npm(web3, sender, "UniswapV2Factory", sender)
    v2_router = _deploy_npm(web3, sender, "UniswapV2Router02", v2_factory, weth)
    v3_factory = _deploy_npm(web3, sender, "UniswapV3Factory")
    swap_router = _deploy_npm(web3, sender, "SwapRouter", v3_factory, weth)
    quoter = _deploy_npm(web3, sender, "QuoterV2", v3_factory, weth)
    position_manager = _deploy_npm(web3, sender, "NonfungiblePositionManager", v3_factory, weth,
                                   "0x0000000000000000000000000000000000000000")
    swap_router02 = _deploy_npm(web3, sender, "SwapRouter02", v2_factory, v3_factory, position_manager, weth)

    addresses = WorldAddresses(
        chain_id=chain_id, deployer=sender, tokens=token_addresses,
        uniswap_v2_factory=v2_factory, uniswap_v2_router=v2_router, uniswap_v3_factory=v3_factory,
        swap_router=swap_router, swap_router02=swap_router02, quoter_v2=quoter,
        position_manager=position_manager, decimals={spec.symbol: spec.decimals for spec in TOKENS},
    )
    world = attach_world(web3, addresses)
    say("deploying price feeds")
    feed = load_artifact("MockV3Aggregator")
    for spec in TOKENS:
        answer = int(spec.usd_price * 10**FEED_DECIMALS)
        addresses.feeds[spec.symbol] = _deploy(web3, sender, feed["abi"], feed["bytecode"], FEED_DECIMALS, answer)
    say("deploying Safe 1.4.1")
    addresses.safe = deploy_safe_contracts(web3, sender)
    say("adding liquidity")
    _add_liquidity(world)
    # TWAPs need history: pools were created at this block; move the clock on past any window we use.
    _anvil_call(web3, "evm_increaseTime", [TWAP_WARMUP])
    _anvil_call(web3, "evm_mine", [])
    logger.info("world deployed in %.2fs", time.monotonic() - started)
    return world


def _add_liquidity(world: World) -> None:
    web3, sender = world.web3, world.deployer
    specs = {spec.symbol: spec for spec in TOKENS}
    needed: dict[str, int] = dict.fromkeys(specs, 0)
    sides: list[tuple[str, str, int, int]] = []
    for symbol_a, symbol_b, usd in POOLS:
        raw_a = _raw(usd / specs[symbol_a].usd_price, specs[symbol_a].decimals)
        raw_b = _raw(usd / specs[symbol_b].usd_price, specs[symbol_b].decimals)
        sides.append((symbol_a, symbol_b, raw_a, raw_b))
        pools_per_pair = 1 + (len(V3_FEE_TIERS) if symbol_a != "DAI" else 0)
        needed[symbol_a] += raw_a * pools_per_pair
        needed[symbol_b] += raw_b * pools_per_pair

    for symbol, amount in needed.items():
        world.fund(symbol, sender, amount)
        token = world.token(symbol)
        for spender in (world.uniswap_v2_router.address, world.position_manager.address):
            _transact(web3, sender, token.functions.approve(spender, amount))

    deadline = 2**63
    for symbol_a, symbol_b, raw_a, raw_b in sides:
        token_a, token_b = world.token(symbol_a).address, world.token(symbol_b).address
        _transact(web3, sender, world.uniswap_v2_router.functions.addLiquidity(
            token_a, token_b, raw_a, raw_b, 0, 0, sender, deadline))
        pair = world.uniswap_v2_factory.functions.getPair(token_a, token_b).call()
        world.addresses.v2_pairs[f"{symbol_a}/{symbol_b}"] = pair
        if symbol_a == "DAI":
            continue  # DAI/USDC is a V2-only market: some routes exist on one protocol only
        for fee in V3_FEE_TIERS:
            world.addresses.v3_pools[f"{symbol_a}/{symbol_b}/{fee}"] = _add_v3_liquidity(
                world, token_a, token_b, raw_a, raw_b, fee)


def _add_v3_liquidity(world: World, token_a: str, token_b: str, raw_a: int, raw_b: int, fee: int) -> str:
    """Create, initialise at the pool's USD price ratio, and mint a full-range position."""
    (token0, amount0), (token1, amount1) = sorted(
        [(token_a, raw_a), (token_b, raw_b)], key=lambda side: int(side[0], 16))
    manager = world.position_manager
    _transact(world.web3, world.deployer, manager.functions.createAndInitializePoolIfNecessary(
        token0, token1, fee, _sqrt_price_x96(amount0, amount1)))
    spacing = V3_TICK_SPACING[fee]
    tick_upper = V3_MAX_TICK // spacing * spacing
    _transact(world.web3, world.deployer, manager.functions.mint((
        token0, token1, fee, -tick_upper, tick_upper, amount0, amount1, 0, 0, world.deployer, 2**63)))
    pool: str = world.uniswap_v3_factory.functions.getPool(token0, token1, fee).call()
    oracle = _contract(world.web3, load_protocol_artifact("UniswapV3Pool").abi, pool)
    _transact(world.web3, world.deployer, oracle.functions.increaseObservationCardinalityNext(OBSERVATION_CARDINALITY))
    return pool
