// Deploys the Exchange with its collateral token and price feeds. Used by scripts/deploy.ts (any network)
// and by `npm start` (local node). Reads bytecode from the Hardhat artifacts (run `npx hardhat compile`).
//
// On a local chain it deploys a mock 6-decimal USD token and mock Chainlink feeds; on a real network
// pass `collateral` and per-market `oracle` addresses instead.
//
// Admin: by default an ExchangeTimelock (OpenZeppelin TimelockController) becomes the Exchange's
// DEFAULT_ADMIN_ROLE (and MARKET_ADMIN_ROLE) holder once the markets are listed, with a minDelay above the
// forced-exit grace period plus the exit window; the deployer renounces both roles. `timelock: false` keeps
// an EOA admin (tests).
import fs from "node:fs";
import path from "node:path";
import type { Abi, Address, Chain, Hex, PublicClient, Transport, WalletClient, Account } from "viem";
import { price, size, usd } from "../../sdk/units";

const ROOT = path.resolve(__dirname, "../..");

interface Artifact {
  abi: Abi;
  bytecode: Hex;
}

function artifact(rel: string): Artifact {
  const file = path.join(ROOT, "artifacts/contracts", rel);
  if (!fs.existsSync(file)) throw new Error(`deployExchange: ${file} missing; run \`npx hardhat compile\` first`);
  const a = JSON.parse(fs.readFileSync(file, "utf8"));
  return { abi: a.abi as Abi, bytecode: a.bytecode as Hex };
}

/** Market parameters in the contract's units (see sdk/units.ts and MarketParams in ExchangeTypes.sol). */
export interface MarketSpec {
  symbol: string;
  /** Existing feed; when absent a MockAggregator (8 decimals) is deployed at `initialPrice`. */
  oracle?: Address;
  /** 6-decimal price, used for the mock feed. */
  initialPrice: bigint;
  maxStaleness: number;
  tickSize: bigint;
  lotSize: bigint;
  minSize: bigint;
  imfPpm: number;
  mmfPpm: number;
  makerFeePpm: number;
  takerFeePpm: number;
  minPrice: bigint;
  maxPrice: bigint;
}

/** BTC-USD and ETH-USD: 10x initial (imf 10%), mmf 5%, maker rebate 0.01% (BTC), taker 0.05%. */
export const DEFAULT_MARKETS: MarketSpec[] = [
  {
    symbol: "BTC-USD",
    initialPrice: price("60000"),
    maxStaleness: 3600,
    tickSize: price("0.1"),
    lotSize: size("0.0001"),
    minSize: size("0.0001"),
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: -100,
    takerFeePpm: 500,
    minPrice: price("1000"),
    maxPrice: price("10000000"),
  },
  {
    symbol: "ETH-USD",
    initialPrice: price("3000"),
    maxStaleness: 3600,
    tickSize: price("0.01"),
    lotSize: size("0.001"),
    minSize: size("0.001"),
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: 0,
    takerFeePpm: 500,
    minPrice: price("10"),
    maxPrice: price("1000000"),
  },
];

export interface TimelockOptions {
  /** Seconds; default: grace period + exit window + 1 day. Must exceed grace period + exit window. */
  minDelay?: bigint;
  /** Proposers (and cancellers); default: [`admin` option or the deployer]. */
  proposers?: Address[];
  /** Executors; default: the proposers. The zero address lets anyone execute a ready operation. */
  executors?: Address[];
}

export interface DeployExchangeOptions {
  publicClient: PublicClient;
  /** Deployer; sets everything up, then hands the admin roles over (see `timelock`, `admin`). */
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  /**
   * With the timelock (default): the timelock's proposer and executor. Without (`timelock: false`): the
   * DEFAULT_ADMIN_ROLE holder (default: the deployer).
   */
  admin?: Address;
  /** TimelockController as admin (default) or `false` for an EOA admin (tests only). */
  timelock?: TimelockOptions | false;
  /** GUARDIAN_ROLE holder (pause, operator key revocation). Default: the deployer. */
  guardian?: Address;
  /** FUNDING_ROLE holder (funding rate updates). Default: the deployer. */
  funder?: Address;
  /** OPERATOR_ROLE holder (batch signer). Default: the deployer. */
  operator?: Address;
  /** TREASURER_ROLE holder. Default: the deployer. */
  treasurer?: Address;
  /** Existing collateral token; when absent a MockUSD is deployed. */
  collateral?: Address;
  markets?: MarketSpec[];
  /** Local accounts to fund (mock collateral only): each gets `walletAmount` minted and `depositAmount` deposited. */
  fund?: Address[];
  depositAmount?: bigint;
  walletAmount?: bigint;
  log?: (msg: string) => void;
}

export interface DeployedMarket {
  id: number;
  symbol: string;
  oracle: Address;
  params: Omit<MarketSpec, "symbol" | "oracle" | "initialPrice">;
}

export interface ExchangeDeployment {
  chainId: number;
  exchange: Address;
  collateral: Address;
  deployer: Address;
  /** The DEFAULT_ADMIN_ROLE holder: the timelock when there is one. */
  admin: Address;
  /** The ExchangeTimelock, or null (EOA admin). */
  timelock: Address | null;
  timelockMinDelay: number | null;
  operator: Address;
  treasurer: Address;
  guardian: Address;
  funder: Address;
  deploymentBlock: number;
  markets: DeployedMarket[];
  funded: Address[];
}

export function symbolToBytes32(symbol: string): Hex {
  const hex = Buffer.from(symbol, "utf8").toString("hex");
  if (hex.length > 64) throw new Error(`symbol too long: ${symbol}`);
  return `0x${hex.padEnd(64, "0")}`;
}

const toJson = (v: unknown) => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x)));

/** Deploys and configures the Exchange; returns addresses and the deployment block. */
export async function deployExchange(opts: DeployExchangeOptions): Promise<ExchangeDeployment> {
  const { publicClient, walletClient } = opts;
  const log = opts.log ?? (() => {});
  const deployer = walletClient.account.address;
  const chain = walletClient.chain;
  const send = async (hash: Hex) => {
    const r = await publicClient.waitForTransactionReceipt({ hash });
    if (r.status !== "success") throw new Error(`deployExchange: transaction ${hash} reverted`);
    return r;
  };
  const deploy = async (rel: string, args: unknown[]) => {
    const a = artifact(rel);
    const r = await send(await walletClient.deployContract({ abi: a.abi, bytecode: a.bytecode, args, chain }));
    return { address: r.contractAddress as Address, blockNumber: Number(r.blockNumber) };
  };
  const write = async (rel: string, address: Address, functionName: string, args: unknown[]) =>
    send(await walletClient.writeContract({ abi: artifact(rel).abi, address, functionName, args, chain }));

  const MOCK_USD = "mocks/MockUSD.sol/MockUSD.json";
  const EXCHANGE = "Exchange.sol/Exchange.json";
  const EXTENSION = "ExchangeExtension.sol/ExchangeExtension.json";
  let collateral = opts.collateral;
  let firstBlock: number | undefined;
  if (!collateral) {
    const d = await deploy(MOCK_USD, []);
    collateral = d.address;
    firstBlock = d.blockNumber;
    log(`MockUSD (6 decimals) at ${collateral}`);
  }
  const ext = await deploy(EXTENSION, [collateral]);
  log(`ExchangeExtension at ${ext.address}`);
  const ex = await deploy(EXCHANGE, [collateral, deployer, ext.address]);
  const exchange = ex.address;
  log(`Exchange at ${exchange} (block ${ex.blockNumber})`);

  const exAbi = artifact(EXCHANGE).abi;
  const role = (name: string) =>
    publicClient.readContract({ abi: exAbi, address: exchange, functionName: name }) as Promise<Hex>;
  const operator = opts.operator ?? deployer;
  const treasurer = opts.treasurer ?? deployer;
  const guardian = opts.guardian ?? deployer;
  const funder = opts.funder ?? deployer;
  await write(EXCHANGE, exchange, "grantRole", [await role("MARKET_ADMIN_ROLE"), deployer]);
  await write(EXCHANGE, exchange, "grantRole", [await role("OPERATOR_ROLE"), operator]);
  await write(EXCHANGE, exchange, "grantRole", [await role("TREASURER_ROLE"), treasurer]);
  await write(EXCHANGE, exchange, "grantRole", [await role("GUARDIAN_ROLE"), guardian]);
  await write(EXCHANGE, exchange, "grantRole", [await role("FUNDING_ROLE"), funder]);

  const markets: DeployedMarket[] = [];
  for (const [id, m] of (opts.markets ?? DEFAULT_MARKETS).entries()) {
    let oracle = m.oracle;
    if (!oracle) {
      oracle = (
        await deploy("mocks/MockAggregator.sol/MockAggregator.json", [
          8,
          `${m.symbol.replace("-", " / ")}`,
          m.initialPrice * 100n,
        ])
      ).address;
      log(`MockAggregator ${m.symbol} at ${oracle}`);
    }
    const params = {
      oracle,
      maxStaleness: m.maxStaleness,
      tickSize: m.tickSize,
      lotSize: m.lotSize,
      minSize: m.minSize,
      imfPpm: m.imfPpm,
      mmfPpm: m.mmfPpm,
      makerFeePpm: m.makerFeePpm,
      takerFeePpm: m.takerFeePpm,
      minPrice: m.minPrice,
      maxPrice: m.maxPrice,
    };
    await write(EXCHANGE, exchange, "listMarket", [symbolToBytes32(m.symbol), params]);
    const { oracle: _o, ...rest } = params;
    markets.push({ id, symbol: m.symbol, oracle, params: toJson(rest) });
    log(`listed ${m.symbol} as market ${id}`);
  }

  const funded: Address[] = [];
  if (opts.fund?.length) {
    if (opts.collateral) throw new Error("deployExchange: funding needs the mock collateral");
    const deposit = opts.depositAmount ?? usd("100000");
    const wallet = opts.walletAmount ?? usd("100000");
    await write(MOCK_USD, collateral, "mint", [deployer, deposit * BigInt(opts.fund.length)]);
    await write(MOCK_USD, collateral, "approve", [exchange, deposit * BigInt(opts.fund.length)]);
    for (const a of opts.fund) {
      if (wallet > 0n) await write(MOCK_USD, collateral, "mint", [a, wallet]);
      if (deposit > 0n) await write(EXCHANGE, exchange, "depositFor", [a, deposit]);
      funded.push(a);
    }
    log(`funded ${funded.length} accounts: ${deposit} deposited, ${wallet} in wallet (6-decimal units)`);
  }

  let admin: Address = opts.admin ?? deployer;
  let timelock: Address | null = null;
  let timelockMinDelay: number | null = null;
  const adminRole = await role("DEFAULT_ADMIN_ROLE");
  if (opts.timelock !== false) {
    const t = opts.timelock ?? {};
    const p = (await publicClient.readContract({
      abi: artifact(EXTENSION).abi,
      address: exchange,
      functionName: "exitParams",
    })) as { forcedExitGracePeriod: number; exitWindow: number };
    const needed = BigInt(p.forcedExitGracePeriod) + BigInt(p.exitWindow);
    const minDelay = t.minDelay ?? needed + 86_400n;
    if (minDelay <= needed) {
      throw new Error(
        `deployExchange: timelock minDelay ${minDelay} must exceed grace period + exit window (${needed})`,
      );
    }
    const proposers = t.proposers ?? [admin];
    const executors = t.executors ?? proposers;
    // The timelock administers itself (admin argument zero): only a delayed operation changes its roles.
    timelock = (
      await deploy("ExchangeTimelock.sol/ExchangeTimelock.json", [
        minDelay,
        proposers,
        executors,
        "0x0000000000000000000000000000000000000000",
      ])
    ).address;
    timelockMinDelay = Number(minDelay);
    log(`ExchangeTimelock at ${timelock} (minDelay ${minDelay} s)`);
    const marketAdminRole = await role("MARKET_ADMIN_ROLE");
    await write(EXCHANGE, exchange, "grantRole", [adminRole, timelock]);
    await write(EXCHANGE, exchange, "grantRole", [marketAdminRole, timelock]);
    await write(EXCHANGE, exchange, "renounceRole", [marketAdminRole, deployer]);
    await write(EXCHANGE, exchange, "renounceRole", [adminRole, deployer]);
    admin = timelock;
  } else if (admin.toLowerCase() !== deployer.toLowerCase()) {
    await write(EXCHANGE, exchange, "grantRole", [adminRole, admin]);
    await write(EXCHANGE, exchange, "renounceRole", [adminRole, deployer]);
  }

  return {
    chainId: await publicClient.getChainId(),
    exchange,
    collateral,
    deployer,
    admin,
    timelock,
    timelockMinDelay,
    operator,
    treasurer,
    guardian,
    funder,
    deploymentBlock: firstBlock ?? ex.blockNumber,
    markets,
    funded,
  };
}

/** JSON-safe form for deployments/<network>.json. */
export function deploymentJson(d: ExchangeDeployment): Record<string, unknown> {
  return toJson(d);
}
