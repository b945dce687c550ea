import { expect } from "chai";
import { parseDeployment } from "../../sdk/deployments";
import { apiSymbol, marketsFromDeployment } from "../../matcher/markets";

const deployment = parseDeployment({
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
});

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
