// Writes subgraph/subgraph.yaml (and copies the Exchange ABI to subgraph/abis/) from
//   - the compiled contracts: the Exchange's ABI merged with its ExchangeExtension's (one address; the
//     Exchange delegatecalls the extension, whose events it emits): artifacts/contracts/{Exchange,
//     ExchangeExtension}.sol (run `npx hardhat compile`), merged as sdk/abi is (scripts/lib/exportAbi.ts),
//   - the deployment: deployments/<network>.json (network, Exchange address, deployment block),
//   - HANDLERS below: which mapping function handles which Exchange event.
// Event signatures are taken from the ABI, never typed by hand. An ABI event without a handler is
// an error (pass --allow-missing to write the manifest anyway); so is a handler for an event the ABI
// no longer has.
//
//   tsx subgraph/scripts/manifest.ts [--network localhost] [--deployment file.json]
//       [--graph-network name] [--out subgraph/subgraph.yaml] [--allow-missing]
// The graph node must know the chain by the manifest's network name: --graph-network (or the
// SUBGRAPH_NETWORK env) overrides the deployment's name (e.g. "mainnet" for a local Hardhat chain
// that the graph node calls mainnet).
import fs from "node:fs";
import path from "node:path";
import { stringify } from "yaml";
import { loadDeployment } from "../../sdk/deployments";

export const ROOT = path.resolve(__dirname, "../..");
export const SUBGRAPH_DIR = path.join(ROOT, "subgraph");
export const EXCHANGE_ARTIFACT = path.join(ROOT, "artifacts/contracts/Exchange.sol/Exchange.json");
/** The Exchange delegates its cold paths to the extension: its events come from the Exchange's address. */
export const EXTENSION_ARTIFACT = path.join(ROOT, "artifacts/contracts/ExchangeExtension.sol/ExchangeExtension.json");

/** Exchange event name -> handler exported by subgraph/src/exchange.ts. Add a line per new event. */
export const HANDLERS: Record<string, string> = {
  AgentSet: "handleAgentSet",
  BadDebt: "handleBadDebt",
  BatchSettled: "handleBatchSettled",
  Deposit: "handleDeposit",
  EIP712DomainChanged: "handleEIP712DomainChanged",
  EscapeClaimed: "handleEscapeClaimed",
  EscapeRegistered: "handleEscapeRegistered",
  ExitParamsSet: "handleExitParamsSet",
  FeesMovedToInsurance: "handleFeesMovedToInsurance",
  FeesWithdrawn: "handleFeesWithdrawn",
  FillSettled: "handleFillSettled",
  FillSkipped: "handleFillSkipped",
  FinalPriceSet: "handleFinalPriceSet",
  ForcedExitRequested: "handleForcedExitRequested",
  ForcedExitServed: "handleForcedExitServed",
  ForcedExitTakeover: "handleForcedExitTakeover",
  Frozen: "handleFrozen",
  FundingParamsSet: "handleFundingParamsSet",
  FundingUpdated: "handleFundingUpdated",
  InsuranceDeposited: "handleInsuranceDeposited",
  Liquidated: "handleLiquidated",
  LossSocialized: "handleLossSocialized",
  MarketListed: "handleMarketListed",
  MinNonceRaised: "handleMinNonceRaised",
  OrderCancelled: "handleOrderCancelled",
  Paused: "handlePaused",
  PositionChanged: "handlePositionChanged",
  RoleAdminChanged: "handleRoleAdminChanged",
  RoleGranted: "handleRoleGranted",
  RoleRevoked: "handleRoleRevoked",
  Unpaused: "handleUnpaused",
  Withdraw: "handleWithdraw",
  WithdrawalCancelled: "handleWithdrawalCancelled",
  WithdrawalRequested: "handleWithdrawalRequested",
};

export interface AbiParam {
  name: string;
  type: string;
  indexed?: boolean;
  components?: AbiParam[];
}
export interface AbiItem {
  type: string;
  name?: string;
  inputs?: AbiParam[];
}

/** Canonical type of a parameter, tuples expanded: (address,uint32,...)[] */
function canonicalType(p: AbiParam): string {
  if (!p.type.startsWith("tuple")) return p.type;
  return `(${(p.components ?? []).map(canonicalType).join(",")})${p.type.slice("tuple".length)}`;
}

/** The event signature graph-cli expects: Name(indexed type,type,...) */
export function eventSignature(e: AbiItem): string {
  const params = (e.inputs ?? []).map((p) => (p.indexed ? "indexed " : "") + canonicalType(p));
  return `${e.name}(${params.join(",")})`;
}

function readAbi(artifact: string): AbiItem[] {
  if (!fs.existsSync(artifact)) throw new Error(`no ${path.relative(ROOT, artifact)}: run \`npx hardhat compile\``);
  return JSON.parse(fs.readFileSync(artifact, "utf8")).abi as AbiItem[];
}

/**
 * The ABI of the Exchange's address: its own, then the extension's items it does not have (same kind and
 * signature = the same item; the extension's constructor and fallbacks never face callers). Pass one
 * artifact to read only that one (tests).
 */
export function readExchangeAbi(artifact?: string): AbiItem[] {
  if (artifact) return readAbi(artifact);
  const key = (x: AbiItem) => `${x.type}:${x.name ?? ""}(${(x.inputs ?? []).map((p) => p.type).join(",")})`;
  const out = readAbi(EXCHANGE_ARTIFACT);
  const seen = new Set(out.map(key));
  for (const x of readAbi(EXTENSION_ARTIFACT)) {
    if (x.type === "constructor" || x.type === "fallback" || x.type === "receive" || seen.has(key(x))) continue;
    seen.add(key(x));
    out.push(x);
  }
  return out;
}

export function abiEvents(abi: AbiItem[]): AbiItem[] {
  return abi.filter((x) => x.type === "event");
}

/** Entity type names declared in schema.graphql. */
export function schemaEntities(schemaFile = path.join(SUBGRAPH_DIR, "schema.graphql")): string[] {
  const text = fs.readFileSync(schemaFile, "utf8");
  return [...text.matchAll(/^type\s+(\w+)\s+@entity\b/gm)].map((m) => m[1]);
}

export interface ManifestOptions {
  /** deployments/<network>.json, or a path ending in .json */
  deployment?: string;
  /** network name the graph node knows the chain by; defaults to the deployment's network */
  graphNetwork?: string;
  /** manifest path; must be inside subgraph/ (paths in it are relative to subgraph/) */
  out?: string;
  allowMissing?: boolean;
  artifact?: string;
}

export interface ManifestResult {
  file: string;
  network: string;
  address: string;
  startBlock: number;
  missing: string[];
}

export function writeManifest(opts: ManifestOptions = {}): ManifestResult {
  const deployment = loadDeployment(opts.deployment ?? "localhost");
  const abi = readExchangeAbi(opts.artifact);
  const events = abiEvents(abi);
  const names = new Set(events.map((e) => e.name as string));
  const stale = Object.keys(HANDLERS).filter((n) => !names.has(n));
  if (stale.length) throw new Error(`subgraph handlers for events the Exchange no longer emits: ${stale.join(", ")}`);
  const missing = events.map((e) => e.name as string).filter((n) => !HANDLERS[n]);
  if (missing.length && !opts.allowMissing) {
    throw new Error(
      `Exchange events without a subgraph handler: ${missing.join(", ")}. ` +
        "Add each to HANDLERS in subgraph/scripts/manifest.ts and export the handler from subgraph/src/exchange.ts.",
    );
  }

  fs.mkdirSync(path.join(SUBGRAPH_DIR, "abis"), { recursive: true });
  fs.writeFileSync(path.join(SUBGRAPH_DIR, "abis/Exchange.json"), JSON.stringify(abi, null, 2) + "\n");

  const network = opts.graphNetwork ?? process.env.SUBGRAPH_NETWORK ?? deployment.network;
  const manifest = {
    specVersion: "1.0.0",
    description: "History of the perpetual-futures Exchange: fills, positions, funding, liquidations, batches.",
    schema: { file: "./schema.graphql" },
    dataSources: [
      {
        kind: "ethereum/contract",
        name: "Exchange",
        network,
        source: { address: deployment.exchange, abi: "Exchange", startBlock: deployment.deploymentBlock },
        mapping: {
          kind: "ethereum/events",
          apiVersion: "0.0.9",
          language: "wasm/assemblyscript",
          entities: schemaEntities(),
          abis: [{ name: "Exchange", file: "./abis/Exchange.json" }],
          eventHandlers: events
            .filter((e) => HANDLERS[e.name as string])
            .map((e) => ({ event: eventSignature(e), handler: HANDLERS[e.name as string] })),
          file: "./src/exchange.ts",
        },
      },
    ],
  };
  const file = path.resolve(opts.out ?? path.join(SUBGRAPH_DIR, "subgraph.yaml"));
  if (path.dirname(file) !== SUBGRAPH_DIR) throw new Error(`the manifest must be written inside subgraph/: ${file}`);
  const header =
    `# Generated by subgraph/scripts/manifest.ts from deployments/${deployment.network}.json and the ` +
    "compiled Exchange ABI. Do not edit: run `npm run subgraph:prepare`.\n";
  fs.writeFileSync(file, header + stringify(manifest, { lineWidth: 0 }));
  return { file, network, address: deployment.exchange, startBlock: deployment.deploymentBlock, missing };
}

function parseArgs(argv: string[]): ManifestOptions {
  const opts: ManifestOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--network") opts.deployment = value();
    else if (a === "--deployment") opts.deployment = value();
    else if (a === "--graph-network") opts.graphNetwork = value();
    else if (a === "--out") opts.out = value();
    else if (a === "--allow-missing") opts.allowMissing = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

if (require.main === module) {
  try {
    const r = writeManifest(parseArgs(process.argv.slice(2)));
    console.log(
      `wrote ${path.relative(ROOT, r.file)}: network ${r.network}, Exchange ${r.address}, startBlock ${r.startBlock}`,
    );
    if (r.missing.length) console.warn(`WARNING: no handler for ${r.missing.join(", ")}`);
  } catch (e) {
    console.error((e as Error).message);
    process.exitCode = 1;
  }
}
