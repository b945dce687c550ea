import { expect } from "chai";
import { getAddress } from "viem";
import { marketBySymbol, parseDeployment } from "../../sdk/deployments";

const sample = {
  network: "localhost",
  chainId: 31337,
  exchange: "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
  collateral: "0x5fbdb2315678afecb367f032d93f642f64180aa3",
  operator: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  admin: "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266",
  deploymentBlock: 1,
  markets: [
    {
      id: 0,
      symbol: "BTC-USD",
      oracle: "0x5fc8d32690cc91d4c39d9d3abcbd16989f875707",
      params: {
        maxStaleness: 3600,
        tickSize: "100000",
        lotSize: "10000",
        minSize: "10000",
        imfPpm: 100000,
        mmfPpm: 50000,
        makerFeePpm: -100,
        takerFeePpm: 500,
        minPrice: "1000000000",
        maxPrice: "10000000000000",
      },
    },
  ],
  funded: [],
};

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
