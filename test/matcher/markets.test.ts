import { expect } from "chai";
import { parseDeployment } from "../../sdk/deployments";
import { apiSymbol, marketsFromDeployment } from "../../matcher/markets";
import { sampleDeployment } from "../fixtures/deployment";

const deployment = parseDeployment(sampleDeployment);

describe("matcher/markets", () => {
  it("takes tick, lot, margin fractions and fees from the deployed contract", () => {
    const [m] = marketsFromDeployment(deployment);
    expect(m).to.include({ id: 0, symbol: "BTCUSD", tickSize: 100_000, lotSize: 10_000 });
    expect(m).to.include({ imfPpm: 100_000, mmfPpm: 50_000, makerFeePpm: -100, takerFeePpm: 500 });
  });

  it("maps chain symbols to Binance-dialect symbols", () => {
    expect(apiSymbol("ETH-USD")).to.equal("ETHUSD");
  });
});
