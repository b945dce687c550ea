// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @notice The Exchange views the invariant test reads (core and extension selectors on one address).
interface IExchangeLensView {
    function collateral() external view returns (IERC20);
    function accountOf(address account) external view returns (int256 cash, uint64 minNonce, uint64 openMarkets);
    function positionOf(address account, uint32 market) external view returns (int256);
    function feesAccrued() external view returns (uint256);
    function insuranceFund() external view returns (uint256);
    function pendingFunding(address account, uint32 market) external view returns (int256);
    function openInterest(uint32 market) external view returns (uint256);
}

/// @notice Reads everything test/contracts/Invariants.test.ts checks after each step in one eth_call.
contract InvariantLens {
    struct Snapshot {
        uint256 balance; // collateral held by the Exchange
        uint256 fees;
        uint256 insurance;
        int256 cash; // sum of the accounts' cash
        int256 pending; // sum of their pending funding (positive = owed to the Exchange)
        uint256 openPositions;
        int256[] positionSums; // per market: must be 0
        uint256[] longSums; // per market: must equal the open interest
        uint256[] openInterest;
    }

    function snapshot(
        IExchangeLensView exchange,
        address[] calldata accounts,
        uint32 markets
    ) external view returns (Snapshot memory s) {
        s.balance = exchange.collateral().balanceOf(address(exchange));
        s.fees = exchange.feesAccrued();
        s.insurance = exchange.insuranceFund();
        s.positionSums = new int256[](markets);
        s.longSums = new uint256[](markets);
        s.openInterest = new uint256[](markets);
        for (uint32 m = 0; m < markets; ++m) s.openInterest[m] = exchange.openInterest(m);
        for (uint256 i = 0; i < accounts.length; ++i) {
            (int256 cash, , ) = exchange.accountOf(accounts[i]);
            s.cash += cash;
            for (uint32 m = 0; m < markets; ++m) {
                int256 size = exchange.positionOf(accounts[i], m);
                if (size == 0) continue;
                s.openPositions += 1;
                s.positionSums[m] += size;
                if (size > 0) s.longSums[m] += uint256(size);
                s.pending += exchange.pendingFunding(accounts[i], m);
            }
        }
    }
}
