import { subtask } from "hardhat/config";
import { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } from "hardhat/builtin-tasks/task-names";
import type { HardhatUserConfig } from "hardhat/types";
import "@nomicfoundation/hardhat-viem";
import "solidity-coverage";

// The compiler comes from the pinned `solc` npm package (solc-js), so compiling never
// downloads anything. Keep SOLC_VERSION equal to the `solc` version in package.json.
const SOLC_VERSION = "0.8.28";

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args: { solcVersion: string }, _hre, runSuper) => {
  if (args.solcVersion !== SOLC_VERSION) return runSuper();
  const solcJsPath = require.resolve("solc/soljson.js");
  return {
    compilerPath: solcJsPath,
    isSolcJs: true,
    version: args.solcVersion,
    longVersion: require("solc").version(),
  };
});

const accounts = process.env.DEPLOYER_PRIVATE_KEY ? [process.env.DEPLOYER_PRIVATE_KEY] : [];

const config: HardhatUserConfig = {
  solidity: {
    version: SOLC_VERSION,
    settings: {
      optimizer: { enabled: true, runs: 200 },
      evmVersion: "cancun",
      viaIR: process.env.SOLIDITY_COVERAGE !== "true",
      // storageLayout: test/contracts/StorageLayout.test.ts checks Exchange and ExchangeExtension agree.
      outputSelection: {
        "*": {
          "*": ["abi", "evm.bytecode", "evm.deployedBytecode", "evm.methodIdentifiers", "metadata", "storageLayout"],
          "": ["ast"],
        },
      },
    },
  },
  networks: {
    hardhat: { chainId: 31337, allowUnlimitedContractSize: process.env.SOLIDITY_COVERAGE === "true" },
    localhost: { url: process.env.RPC_URL ?? "http://127.0.0.1:8545", chainId: 31337 },
    custom: { url: process.env.RPC_URL ?? "http://127.0.0.1:8545", accounts },
  },
  paths: { sources: "contracts", tests: "test/contracts", artifacts: "artifacts", cache: "cache" },
  mocha: { timeout: 120_000 },
};

export default config;
