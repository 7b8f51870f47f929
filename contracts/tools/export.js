#!/usr/bin/env node
// Compile our own contracts with the pinned solcjs and write one artifact JSON per contract
// (ABI, creation and runtime bytecode, compiler version and settings) into the given directory.
// Usage: node contracts/tools/export.js <out-dir>. Deterministic: same sources -> same bytes.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..");
const contractsDir = path.join(root, "contracts");
const solc = require(path.join(root, "node_modules", "solc"));

// [source unit under contracts/ (or an npm package's path), contract name] of everything that ships in
// the Python package. MockV3Aggregator is Chainlink's own test aggregator: the local world's price feeds.
const EXPORTS = [
  ["src/Vault.sol", "Vault"],
  ["src/SafeTradeModule.sol", "SafeTradeModule"],
  ["src/mocks/TestToken.sol", "TestToken"],
  ["src/mocks/TetherLikeToken.sol", "TetherLikeToken"],
  ["@chainlink/contracts/src/v0.8/shared/mocks/MockV3Aggregator.sol", "MockV3Aggregator"],
];

// Keep in sync with foundry.toml (the forge test build), so tests exercise what ships.
const SETTINGS = {
  evmVersion: "cancun",
  optimizer: { enabled: true, runs: 200 },
  viaIR: true,
  metadata: { bytecodeHash: "ipfs" },
  outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
};

function findImports(importPath) {
  for (const base of [contractsDir, path.join(root, "node_modules")]) {
    const candidate = path.join(base, importPath);
    if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
  }
  return { error: "File not found: " + importPath };
}

function main() {
  const outDir = process.argv[2];
  if (!outDir) throw new Error("usage: export.js <out-dir>");
  const sources = {};
  for (const [unit] of EXPORTS) {
    const found = findImports(unit);
    if (found.error) throw new Error(found.error);
    sources[unit] = { content: found.contents };
  }
  const input = { language: "Solidity", sources, settings: SETTINGS };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
  const errors = (output.errors || []).filter((e) => e.severity === "error");
  for (const e of output.errors || []) process.stderr.write(e.formattedMessage + "\n");
  if (errors.length) process.exit(1);

  const { outputSelection, ...recorded } = SETTINGS;
  fs.mkdirSync(outDir, { recursive: true });
  for (const [unit, name] of EXPORTS) {
    const c = output.contracts[unit][name];
    const artifact = {
      contractName: name,
      sourceName: unit.startsWith("@") ? unit : "contracts/" + unit,
      abi: c.abi,
      bytecode: "0x" + c.evm.bytecode.object,
      deployedBytecode: "0x" + c.evm.deployedBytecode.object,
      compiler: { name: "solc", version: solc.version(), settings: recorded },
    };
    fs.writeFileSync(path.join(outDir, name + ".json"), JSON.stringify(artifact, null, 2) + "\n");
  }
}

main();
