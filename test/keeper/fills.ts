// Signed trades for the settler tests: fresh funded accounts, dense nonces, fees at the market cap.
import { maxUint256, type Address, type Hex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { exchangeAbi, mockUSDAbi } from "../../sdk/abi";
import { exchangeDomain, hashOrder, signBatch, signOrder, type Fill, type Order } from "../../sdk/eip712";
import { feeCap } from "../../sdk/margin";
import { orderToJson, type FillMessage } from "../../keeper/settler";
import { orderFromJson } from "../../keeper/settler/types";
import { DEV_KEYS, type TestChain } from "./chain";

export interface Trader {
  key: Hex;
  address: Address;
  nextNonce: bigint;
}

export class TradeMaker {
  private tradeId = Date.now() * 1000;
  constructor(
    private readonly chain: TestChain,
    readonly exchange: Address,
    private readonly collateral: Address,
  ) {}

  async init(): Promise<void> {
    const w = this.chain.deployer;
    const wait = async (h: Hex) => this.chain.client.waitForTransactionReceipt({ hash: h });
    await wait(
      await w.writeContract({
        address: this.collateral,
        abi: mockUSDAbi,
        functionName: "mint",
        args: [w.account.address, 10n ** 18n],
      }),
    );
    await wait(
      await w.writeContract({
        address: this.collateral,
        abi: mockUSDAbi,
        functionName: "approve",
        args: [this.exchange, maxUint256],
      }),
    );
  }

  /** A fresh account with `usd` (6 decimals) deposited. */
  async trader(usd = 100_000n * 10n ** 6n): Promise<Trader> {
    const key = generatePrivateKey();
    const address = privateKeyToAccount(key).address;
    const h = await this.chain.deployer.writeContract({
      address: this.exchange,
      abi: exchangeAbi,
      functionName: "depositFor",
      args: [address, usd],
    });
    await this.chain.client.waitForTransactionReceipt({ hash: h });
    return { key, address, nextNonce: 0n };
  }

  /** BTC-USD (market 0): maker rebate 100 ppm, taker 500 ppm; size in 1e-8, price 6 decimals. */
  async trade(
    maker: Trader,
    taker: Trader,
    opts: { makerIsBuy?: boolean; size?: bigint; price?: bigint; takerExpiry?: bigint; market?: number } = {},
  ): Promise<FillMessage> {
    const size = opts.size ?? 1_000_000n; // 0.01 BTC
    const price = opts.price ?? 60_000_000_000n; // 60,000
    const makerIsBuy = opts.makerIsBuy ?? true;
    // chain time (other suites move it forward by days), not the wall clock
    const far = (await this.chain.client.getBlock({ blockTag: "latest" })).timestamp + 86_400n;
    const domain = exchangeDomain(31337, this.exchange);
    const mk: Order = {
      account: maker.address,
      market: opts.market ?? 0,
      isBuy: makerIsBuy,
      reduceOnly: false,
      price,
      size,
      nonce: maker.nextNonce++,
      expiry: far,
    };
    const tk: Order = {
      account: taker.address,
      market: opts.market ?? 0,
      isBuy: !makerIsBuy,
      reduceOnly: false,
      price,
      size,
      nonce: taker.nextNonce++,
      expiry: opts.takerExpiry ?? far,
    };
    return {
      tradeId: this.tradeId++,
      maker: { order: orderToJson(mk), signature: await signOrder(privateKeyToAccount(maker.key), domain, mk) },
      taker: { order: orderToJson(tk), signature: await signOrder(privateKeyToAccount(taker.key), domain, tk) },
      size: size.toString(),
      price: price.toString(),
      makerFee: feeCap(size, price, (opts.market ?? 0) === 0 ? -100n : 0n).toString(), // ETH-USD: maker 0
      takerFee: feeCap(size, price, 500n).toString(),
      ts: Date.now(),
    };
  }

  /**
   * Settles fills in one batch without the keeper: signed by the operator (dev key #0, the deployer),
   * sent by the deployer; resolves with the batch number once mined (automine).
   */
  async settle(
    fills: readonly FillMessage[],
    fees: { maxPriorityFeePerGas?: bigint } = {},
  ): Promise<{ batch: bigint; blockNumber: bigint }> {
    const c = this.chain.client;
    const domain = exchangeDomain(31337, this.exchange);
    const number = (await c.readContract({
      address: this.exchange,
      abi: exchangeAbi,
      functionName: "nextBatchNumber",
    })) as bigint;
    const orders: Order[] = [];
    const signatures: Hex[] = [];
    const index = new Map<Hex, number>();
    const idx = (o: Order, sig: Hex) => {
      const h = hashOrder(domain, o);
      let i = index.get(h);
      if (i === undefined) {
        index.set(h, (i = orders.length));
        orders.push(o);
        signatures.push(sig);
      }
      return i;
    };
    const batchFills: Fill[] = fills.map((f) => ({
      maker: idx(orderFromJson(f.maker.order), f.maker.signature),
      taker: idx(orderFromJson(f.taker.order), f.taker.signature),
      size: BigInt(f.size),
      price: BigInt(f.price),
      makerFee: BigInt(f.makerFee),
      takerFee: BigInt(f.takerFee),
    }));
    const block = await c.getBlock();
    const batch = { number, deadline: block.timestamp + 600n, orders, signatures, fills: batchFills };
    const sig = await signBatch(privateKeyToAccount(DEV_KEYS[0]), domain, batch);
    const h = await this.chain.deployer.writeContract({
      address: this.exchange,
      abi: exchangeAbi,
      functionName: "settle",
      args: [batch, sig],
      gas: 8_000_000n,
      ...(fees.maxPriorityFeePerGas
        ? { maxPriorityFeePerGas: fees.maxPriorityFeePerGas, maxFeePerGas: fees.maxPriorityFeePerGas * 4n }
        : {}),
    });
    const r = await c.waitForTransactionReceipt({ hash: h });
    if (r.status !== "success") throw new Error(`settle reverted (batch ${number})`);
    return { batch: number, blockNumber: r.blockNumber };
  }
}
