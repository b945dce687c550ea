// ABIs of the Exchange, the collateral token and the price feeds, typed for viem. The source is
// sdk/abi/generated.ts, written from the Hardhat artifacts by `npm run abi` and committed, so plain
// node/tsx consumers (matcher, keeper, web) need no Hardhat. JSON copies live in sdk/abi/*.json.
export { exchangeAbi, eRC20Abi as erc20Abi, mockUSDAbi, aggregatorV3Abi, mockAggregatorAbi } from "./abi/generated";
