// Deploys the Exchange to the selected Hardhat network and writes deployments/<network>.json.
//   npx hardhat run scripts/deploy.ts --network localhost
//   RPC_URL=... DEPLOYER_PRIVATE_KEY=0x... npx hardhat run scripts/deploy.ts --network custom
// Optional env: COLLATERAL (existing token), OPERATOR, TREASURER, ADMIN (addresses),
// FUND (comma-separated local accounts to fund with mock USD).
import fs from "node:fs";
import path from "node:path";
import hre from "hardhat";
import type { Address } from "viem";
import { deployExchange, deploymentJson } from "./lib/deployExchange";

async function main() {
  const publicClient = await hre.viem.getPublicClient();
  const [walletClient] = await hre.viem.getWalletClients();
  if (!walletClient) throw new Error("no deployer account configured for this network");
  const env = (k: string) => (process.env[k] ? (process.env[k] as Address) : undefined);
  const d = await deployExchange({
    publicClient,
    walletClient,
    collateral: env("COLLATERAL"),
    operator: env("OPERATOR"),
    treasurer: env("TREASURER"),
    admin: env("ADMIN"),
    fund: process.env.FUND ? (process.env.FUND.split(",").map((s) => s.trim()) as Address[]) : undefined,
    log: (m) => console.log(m),
  });
  const out = path.resolve(__dirname, "..", "deployments", `${hre.network.name}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ network: hre.network.name, ...deploymentJson(d) }, null, 2) + "\n");
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
