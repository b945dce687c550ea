// Market listing (role and parameter checks), oracle conversion, staleness and sanity bounds, roles.
import { expect } from "chai";
import hre from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { getAddress, zeroAddress } from "viem";
import { BTC, type Fx, addr, decodeEvents, deployFixture, eventsNamed, expectRevert, price, size } from "./helpers";
import { symbolToBytes32 } from "../../scripts/lib/deployExchange";

describe("Exchange: markets, oracle and roles", () => {
  let fx: Fx;
  beforeEach(async () => {
    fx = await loadFixture(deployFixture);
  });

  const params = (over: Record<string, unknown> = {}) => ({
    oracle: fx.btcFeed.address,
    maxStaleness: 3600,
    tickSize: price("0.1"),
    lotSize: size("0.0001"),
    minSize: size("0.001"),
    imfPpm: 100_000,
    mmfPpm: 50_000,
    makerFeePpm: -100,
    takerFeePpm: 500,
    minPrice: price("1000"),
    maxPrice: price("10000000"),
    ...over,
  });

  it("lists a market with MARKET_ADMIN_ROLE and emits MarketListed", async () => {
    const p = params();
    const hash = await fx.exchange.write.listMarket([symbolToBytes32("SOL-USD"), p]);
    const r = await fx.publicClient.waitForTransactionReceipt({ hash });
    const [ev] = eventsNamed(decodeEvents(fx, r.logs), "MarketListed");
    expect(ev.args.market).to.equal(2);
    expect(ev.args.symbol).to.equal(symbolToBytes32("SOL-USD"));
    expect(ev.args.params.minSize).to.equal(size("0.001"));
    expect(await fx.exchange.read.marketCount()).to.equal(3n);
    expect(await fx.exchange.read.marketSymbol([2n])).to.equal(symbolToBytes32("SOL-USD"));
    const stored = await fx.exchange.read.marketParams([2]);
    expect(stored).to.deep.include({ oracle: getAddress(fx.btcFeed.address), imfPpm: 100_000, makerFeePpm: -100 });
  });

  it("refuses a stranger (AccessControlUnauthorizedAccount)", async () => {
    const role = await fx.exchange.read.MARKET_ADMIN_ROLE();
    await expectRevert(
      fx.exchange.write.listMarket([symbolToBytes32("X"), params()], { account: fx.stranger.account }),
      "AccessControlUnauthorizedAccount",
      [addr(fx.stranger), role],
    );
  });

  it("refuses invalid parameters with the offending values", async () => {
    const cases: [Record<string, unknown>, string, unknown[]?][] = [
      [{ oracle: zeroAddress }, "ZeroAddress"],
      [{ tickSize: 0n }, "InvalidTickOrLot", [0n, size("0.0001"), size("0.001")]],
      [{ lotSize: 0n }, "InvalidTickOrLot", [price("0.1"), 0n, size("0.001")]],
      [{ minSize: size("0.00005") }, "InvalidTickOrLot"],
      [{ minSize: size("0.00015") }, "InvalidTickOrLot"],
      [{ mmfPpm: 0 }, "InvalidMarginFractions", [100_000, 0]],
      [{ mmfPpm: 100_000 }, "InvalidMarginFractions", [100_000, 100_000]],
      [{ imfPpm: 1_000_001 }, "InvalidMarginFractions", [1_000_001, 50_000]],
      [{ takerFeePpm: -1 }, "InvalidFeeRates", [-100, -1]],
      [{ takerFeePpm: 100_001 }, "InvalidFeeRates", [-100, 100_001]],
      [{ makerFeePpm: 100_001 }, "InvalidFeeRates", [100_001, 500]],
      [{ makerFeePpm: -501 }, "InvalidFeeRates", [-501, 500]],
      [{ minPrice: 0n }, "InvalidPriceBounds", [0n, price("10000000")]],
      [{ minPrice: price("5"), maxPrice: price("5") }, "InvalidPriceBounds", [price("5"), price("5")]],
      [{ maxStaleness: 0 }, "InvalidStaleness", [0]],
    ];
    for (const [over, err, args] of cases) {
      await expectRevert(fx.exchange.write.listMarket([symbolToBytes32("BAD"), params(over)]), err, args);
    }
    const weird = await hre.viem.deployContract("MockAggregator", [19, "weird", 1n]);
    await expectRevert(
      fx.exchange.write.listMarket([symbolToBytes32("BAD"), params({ oracle: weird.address })]),
      "InvalidOracleDecimals",
      [19],
    );
  });

  it("lists at most 64 markets", async () => {
    for (let i = 2; i < 64; i++) await fx.exchange.write.listMarket([symbolToBytes32(`M${i}`), params()]);
    await expectRevert(fx.exchange.write.listMarket([symbolToBytes32("M64"), params()]), "TooManyMarkets", [64n]);
  });

  describe("oracle", () => {
    it("converts feed answers to 6-decimal prices (8-decimal and 4-decimal feeds)", async () => {
      expect(await fx.exchange.read.markPrice([BTC])).to.equal(price("60000"));
      await fx.btcFeed.write.setAnswer([6_000_012_345_678n]); // 60,000.12345678 → rounded down
      expect(await fx.exchange.read.markPrice([BTC])).to.equal(60_000_123_456n);
      const feed4 = await hre.viem.deployContract("MockAggregator", [4, "X / USD", 12_345n]); // 1.2345
      await fx.exchange.write.listMarket([symbolToBytes32("X-USD"), params({ oracle: feed4.address, minPrice: 1n })]);
      expect(await fx.exchange.read.markPrice([2])).to.equal(1_234_500n);
    });

    it("refuses stale answers and answers outside the sanity bounds", async () => {
      const now = BigInt(await time.latest());
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 3000n]);
      expect(await fx.exchange.read.markPrice([BTC])).to.equal(price("60000")); // within maxStaleness
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, now - 3700n]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OracleStale");
      await fx.btcFeed.write.setAnswerAt([60_000n * 10n ** 8n, 0n]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OracleStale");
      await fx.btcFeed.write.setAnswer([999n * 10n ** 8n]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OraclePriceOutOfBounds", [BTC, 999n * 10n ** 8n]);
      await fx.btcFeed.write.setAnswer([10_000_001n * 10n ** 8n]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OraclePriceOutOfBounds");
      await fx.btcFeed.write.setAnswer([0n]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OraclePriceOutOfBounds", [BTC, 0n]);
      await fx.btcFeed.write.setBroken([true]);
      await expectRevert(fx.exchange.read.markPrice([BTC]), "OracleStale");
    });

    it("unknown markets are refused by views", async () => {
      await expectRevert(fx.exchange.read.markPrice([9]), "UnknownMarket", [9]);
      await expectRevert(fx.exchange.read.marketParams([9]), "UnknownMarket", [9]);
    });
  });

  describe("roles", () => {
    it("only the admin grants roles", async () => {
      const op = await fx.exchange.read.OPERATOR_ROLE();
      const admin = await fx.exchange.read.DEFAULT_ADMIN_ROLE();
      await expectRevert(
        fx.exchange.write.grantRole([op, addr(fx.stranger)], { account: fx.stranger.account }),
        "AccessControlUnauthorizedAccount",
        [addr(fx.stranger), admin],
      );
      expect(await fx.exchange.read.hasRole([op, addr(fx.operator)])).to.equal(true);
      expect(await fx.exchange.read.hasRole([admin, addr(fx.admin)])).to.equal(true);
    });
  });
});
