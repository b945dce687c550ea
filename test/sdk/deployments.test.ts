import { expect } from "chai";
import { getAddress } from "viem";
import { marketBySymbol, parseDeployment } from "../../sdk/deployments";
import { sampleDeployment as sample } from "../fixtures/deployment";

describe("sdk/deployments", () => {
  it("parses a deployment into checksummed addresses and bigint parameters", () => {
    const d = parseDeployment(sample);
    expect(d.exchange).to.equal(getAddress(sample.exchange));
    expect(d.exchange).to.not.equal(sample.exchange);
    expect(d.markets[0].params.makerFeePpm).to.equal(-100n);
    expect(d.markets[0].params.tickSize).to.equal(100_000n);
    expect(marketBySymbol(d, "BTC-USD").id).to.equal(0);
    expect(() => marketBySymbol(d, "DOGE-USD")).to.throw(/unknown market DOGE-USD; listed: BTC-USD/);
  });

  it("names the missing or malformed field", () => {
    expect(() => parseDeployment({ ...sample, exchange: undefined }, "x.json")).to.throw(
      /x.json: missing field "exchange"/,
    );
    const bad = {
      ...sample,
      markets: [{ ...sample.markets[0], params: { ...sample.markets[0].params, tickSize: "1.5" } }],
    };
    expect(() => parseDeployment(bad, "x.json")).to.throw(/tickSize must be an integer/);
  });
});
