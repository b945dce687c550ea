// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {FundingMath} from "../libraries/FundingMath.sol";

/// @notice Exposes FundingMath to the shared-vector tests (test/sdk/funding.vectors.json, sdk/funding.ts).
contract FundingHarness {
    function owed(int256 size, int256 indexMove) external pure returns (int256) {
        return FundingMath.owed(size, indexMove);
    }

    function pending(int256 size, int256 longIndex, int256 shortIndex, int256 snapshot) external pure returns (int256) {
        return FundingMath.pending(size, longIndex, shortIndex, snapshot);
    }

    function indexDelta(uint256 mark, int256 rate, uint256 dt, uint256 interval) external pure returns (int256) {
        return FundingMath.indexDelta(mark, rate, dt, interval);
    }

    function maxRateStep(uint256 maxRateChange, uint256 dt, uint256 interval) external pure returns (uint256) {
        return FundingMath.maxRateStep(maxRateChange, dt, interval);
    }

    function clampRate(int256 requested, int256 last, uint256 maxRate, uint256 step) external pure returns (int256) {
        return FundingMath.clampRate(requested, last, maxRate, step);
    }

    function socialLossDelta(uint256 amount, uint256 openInterest) external pure returns (int256) {
        return FundingMath.socialLossDelta(amount, openInterest);
    }

    function update(
        int256 requested,
        int256 lastRate,
        uint256 lastTime,
        uint256 mark,
        uint256 now_,
        uint256 interval,
        uint256 maxRate,
        uint256 maxRateChange
    ) external pure returns (int256 applied, int256 delta) {
        return FundingMath.update(requested, lastRate, lastTime, mark, now_, interval, maxRate, maxRateChange);
    }
}
