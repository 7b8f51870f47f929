"""Protocol knowledge: Uniswap V2/V3 and ERC-20 calldata, quotes, known deployments."""
