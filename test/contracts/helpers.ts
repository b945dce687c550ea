// Shared fixture and helpers for the Exchange tests: deployment through scripts/lib/deployExchange.ts,
// order and batch signing through sdk/eip712.ts, custom-error assertions, event decoding.
import hre from "hardhat";
import { expect } from "chai";
import { mine, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  type Address,
  type Hex,
  type Log,
  BaseError,
  getAddress,
  ContractFunctionRevertedError,
  parseEventLogs,
} from "viem";
import { deployExchange } from "../../scripts/lib/deployExchange";
import {
  type Batch,
  type ExchangeDomain,
  type Fill,
  type Order,
  type TypedDataSigner,
  NonceAllocator,
  exchangeDomain,
  hashOrder,
  signBatch,
  signOrder,
  signWithdrawal,
} from "../../sdk/eip712";
import { feeCap } from "../../sdk/margin";
import { price, size, usd } from "../../sdk/units";
import { encodeSettlePackedPayload } from "../../sdk/settlePacked";

export { price, size, usd };

/** Checksummed address of a wallet client (events return checksummed addresses). */
export const addr = (w: { account: { address: Address } }): Address => getAddress(w.account.address);

export const BTC = 0;
export const ETH = 1;
export const DEPOSIT = usd("100000");

export async function deployFixture() {
  const publicClient = await hre.viem.getPublicClient();
  const wallets = await hre.viem.getWalletClients();
  const [admin, operator, treasurer, alice, bob, carol, dave, stranger, keeper, guardian] = wallets;
  const d = await deployExchange({
    publicClient,
    walletClient: admin,
    // An EOA admin for convenience (it also holds MARKET_ADMIN_ROLE and FUNDING_ROLE); the timelocked
    // deployment is exercised by test/contracts/Timelock.test.ts.
    timelock: false,
    operator: operator.account.address,
    treasurer: treasurer.account.address,
    guardian: guardian.account.address,
    fund: [alice, bob, carol, dave].map((w) => w.account.address),
    depositAmount: DEPOSIT,
    walletAmount: usd("100000"),
  });
  const exchange = await hre.viem.getContractAt("Exchange", d.exchange);
  /** The same address with the ExchangeExtension ABI (the cold paths, reached through the fallback). */
  const ext = await hre.viem.getContractAt("ExchangeExtension", d.exchange);
  const token = await hre.viem.getContractAt("MockUSD", d.collateral);
  const btcFeed = await hre.viem.getContractAt("MockAggregator", d.markets[BTC].oracle);
  const ethFeed = await hre.viem.getContractAt("MockAggregator", d.markets[ETH].oracle);
  const domain = exchangeDomain(await publicClient.getChainId(), d.exchange);
  return {
    publicClient,
    wallets,
    admin,
    operator,
    treasurer,
    alice,
    bob,
    carol,
    dave,
    stranger,
    keeper,
    guardian,
    exchange,
    ext,
    token,
    btcFeed,
    ethFeed,
    domain,
    deployment: d,
    nonces: new NonceAllocator(),
  };
}

export type Fx = Awaited<ReturnType<typeof deployFixture>>;

export interface SignedOrder {
  order: Order;
  signature: Hex;
  hash: Hex;
}

export interface OrderSpec {
  market?: number;
  isBuy: boolean;
  price: bigint;
  size: bigint;
  reduceOnly?: boolean;
  nonce?: bigint;
  expiry?: bigint;
  account?: Address;
}

/** Builds and signs an order for `signer` (or `spec.account` when an agent/wallet owner signs). */
export async function makeOrder(
  fx: Fx,
  signer: TypedDataSigner,
  spec: OrderSpec,
  domain: ExchangeDomain = fx.domain,
): Promise<SignedOrder> {
  const signerAddress = ("address" in signer ? signer.address : signer.account?.address) as Address;
  const account = spec.account ?? signerAddress;
  const order: Order = {
    account,
    market: spec.market ?? BTC,
    isBuy: spec.isBuy,
    reduceOnly: spec.reduceOnly ?? false,
    price: spec.price,
    size: spec.size,
    nonce: spec.nonce ?? fx.nonces.take(account),
    expiry: spec.expiry ?? BigInt(await time.latest()) + 3600n,
  };
  return { order, signature: await signOrder(signer, domain, order), hash: hashOrder(fx.domain, order) };
}

export const BTC_RATES = { maker: -100n, taker: 500n };
export const ETH_RATES = { maker: 0n, taker: 500n };

/** A fill at the full market fee rates (maximum allowed). */
export function fill(
  maker: number,
  taker: number,
  fillSize: bigint,
  fillPrice: bigint,
  rates = BTC_RATES,
  fees?: { makerFee?: bigint; takerFee?: bigint },
): Fill {
  return {
    maker,
    taker,
    size: fillSize,
    price: fillPrice,
    makerFee: fees?.makerFee ?? feeCap(fillSize, fillPrice, rates.maker),
    takerFee: fees?.takerFee ?? feeCap(fillSize, fillPrice, rates.taker),
  };
}

export interface BatchOptions {
  number?: bigint;
  deadline?: bigint;
  signer?: TypedDataSigner;
  domain?: ExchangeDomain;
  /** Submit through settlePacked (the keeper's path) instead of the ABI settle. */
  packed?: boolean;
}

export async function makeBatch(
  fx: Fx,
  orders: SignedOrder[],
  fills: Fill[],
  opts: BatchOptions = {},
): Promise<{ batch: Batch; signature: Hex }> {
  const batch: Batch = {
    number: opts.number ?? (await fx.exchange.read.nextBatchNumber()),
    deadline: opts.deadline ?? BigInt(await time.latest()) + 600n,
    orders: orders.map((o) => o.order),
    signatures: orders.map((o) => o.signature),
    fills,
  };
  const signature = await signBatch(opts.signer ?? fx.operator, opts.domain ?? fx.domain, batch);
  return { batch, signature };
}

/** Signs and submits a batch (from `keeper`); returns the receipt's decoded Exchange events. */
export async function settle(fx: Fx, orders: SignedOrder[], fills: Fill[], opts: BatchOptions = {}) {
  const { batch, signature } = await makeBatch(fx, orders, fills, opts);
  const hash = opts.packed
    ? await fx.exchange.write.settlePacked([encodeSettlePackedPayload(batch, signature)], {
        account: fx.keeper.account,
      })
    : await fx.exchange.write.settle([batch, signature], { account: fx.keeper.account });
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash });
  return { receipt, events: decodeEvents(fx, receipt.logs), gasUsed: receipt.gasUsed };
}

export function decodeEvents(fx: Fx, logs: Log[]) {
  return parseEventLogs({ abi: fx.exchange.abi, logs });
}

/** Decodes logs with the extension's ABI (events of the cold paths: withdrawals, forced exit, escape...). */
export function decodeExtEvents(fx: Fx, logs: Log[]) {
  return parseEventLogs({ abi: fx.ext.abi, logs });
}

/** Receipt and extension-decoded events of a sent transaction. */
export async function sent(fx: Fx, hash: Hex) {
  const receipt = await fx.publicClient.waitForTransactionReceipt({ hash });
  return { receipt, events: decodeExtEvents(fx, receipt.logs), gasUsed: receipt.gasUsed };
}

/** The operator's co-signature of a fast withdrawal of `amount` from `account` to `to`. */
export async function withdrawalSignature(
  fx: Fx,
  account: Address,
  amount: bigint,
  to: Address,
  opts: { deadline?: bigint; nonce?: bigint; signer?: TypedDataSigner; domain?: ExchangeDomain } = {},
): Promise<{ deadline: bigint; signature: Hex }> {
  const deadline = opts.deadline ?? BigInt(await time.latest()) + 600n;
  const nonce = opts.nonce ?? (await fx.ext.read.withdrawalState([account]))[0];
  const signature = await signWithdrawal(opts.signer ?? fx.operator, opts.domain ?? fx.domain, {
    account,
    amount,
    to,
    nonce,
    deadline,
  });
  return { deadline, signature };
}

/** Fast withdrawal by `wallet` of `amount` to `to` (default: itself), co-signed by the operator. */
export async function fastWithdraw(fx: Fx, wallet: Fx["alice"], amount: bigint, to: Address = addr(wallet)) {
  const { deadline, signature } = await withdrawalSignature(fx, addr(wallet), amount, to);
  return fx.ext.write.withdraw([amount, to, deadline, signature], { account: wallet.account });
}

export type ExchangeEvent = ReturnType<typeof decodeEvents>[number];

export function eventsNamed<N extends ExchangeEvent["eventName"]>(events: ExchangeEvent[], name: N) {
  return events.filter((e) => e.eventName === name) as Extract<ExchangeEvent, { eventName: N }>[];
}

/** Asserts that `p` reverts with custom error `name` (and `args`, when given). */
export async function expectRevert(p: Promise<unknown>, name: string, args?: readonly unknown[]): Promise<void> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  if (err === undefined) expect.fail(`expected revert with ${name}, but the call succeeded`);
  if (err instanceof BaseError) {
    const revert = err.walk((x) => x instanceof ContractFunctionRevertedError);
    if (revert instanceof ContractFunctionRevertedError && revert.data) {
      expect(revert.data.errorName, `error name (${err.shortMessage})`).to.equal(name);
      if (args) expect(revert.data.args).to.deep.equal(args);
      return;
    }
  }
  // Transactions sent to the Hardhat node: the node's message carries the decoded error, e.g.
  // "reverted with custom error 'BatchNumberMismatch(0, 5)'".
  const msg = String((err as BaseError).details ?? (err as Error).message);
  const m = /reverted with custom error '(\w+)\((.*)\)'/.exec(msg);
  expect(m, msg).to.not.equal(null);
  expect(m![1], msg).to.equal(name);
  if (args) {
    const fmt = (a: unknown) => (typeof a === "string" ? `"${a}"` : String(a));
    expect(m![2].toLowerCase(), msg).to.equal(args.map(fmt).join(", ").toLowerCase());
  }
}

export async function account(fx: Fx, a: Address) {
  const [cash, minNonce, openMarkets] = await fx.exchange.read.accountOf([a]);
  return { cash, minNonce, openMarkets };
}

export async function cashOf(fx: Fx, a: Address): Promise<bigint> {
  return (await account(fx, a)).cash;
}

export async function positionOf(fx: Fx, a: Address, market = BTC): Promise<bigint> {
  return fx.exchange.read.positionOf([a, market]);
}

export { SkipReason } from "../../sdk/skipReasons";

/** Deploys a bare Exchange (with its ExchangeExtension) for `token`, outside the fixture. */
export async function deployBareExchange(token: Address, admin: Address) {
  const ext = await hre.viem.deployContract("ExchangeExtension", [token]);
  return hre.viem.deployContract("Exchange", [token, admin, ext.address]);
}

/** The chain's time now: mines a block first. After loadFixture reverts to an old snapshot, the latest block
 *  is the snapshot's, but the next block takes the wall clock, which may be minutes later on a slow run
 *  (coverage): a deadline computed from time.latest() alone could already be past. */
export async function chainNow(): Promise<bigint> {
  await mine();
  return BigInt(await time.latest());
}
