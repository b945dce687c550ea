// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Units} from "./Units.sol";

/// @title FundingMath
/// @notice The funding formulas of sdk/funding.ts, mirrored exactly and tested against the shared vectors in
///         test/sdk/funding.vectors.json (contracts/mocks/FundingHarness.sol).
///
/// Units: index in 1e-6 quote units (1e-12 USD) per whole base unit (price units x 1e6); rate in 1e-9 per funding
/// interval; size in 1e-8 base units; amounts in quote units.
///
///   owed(size, d)          = ceil(size * d / 1e14)                     (positive = pays; against the payer)
///   pending(size, L, S, k) = owed(size, (size > 0 ? L : S) - k), 0 when flat
///   indexDelta             = trunc(mark * rate * dt / (interval * 1e3)) (both indices, rounded toward zero)
///   maxRateStep            = floor(maxRateChange * dt / interval)
///   clampRate              = clamp(clamp(requested, last - step, last + step), -maxRate, maxRate)
///   socialLossDelta        = ceil(amount * 1e14 / openInterest)         (charged side's index, against it)
library FundingMath {
    /// @dev size units per base unit (1e8) x index units per price unit (1e6).
    int256 internal constant INDEX_DIVISOR = 1e14;
    /// @dev index units per price unit (1e6) / rate units per one (1e9), inverted: divide by 1e3.
    int256 internal constant RATE_DIVISOR = 1e3;

    /// @notice What a position of `size` owes for a move `indexMove` of its side's index (positive = pays).
    /// @dev |size| < 2^96 and |indexMove| < 2^130 keep the product inside int256.
    function owed(int256 size, int256 indexMove) internal pure returns (int256) {
        return Units.divCeil(size * indexMove, INDEX_DIVISOR);
    }

    /// @notice Pending funding of a position with snapshot `snapshot` at indices (`longIndex`, `shortIndex`).
    function pending(int256 size, int256 longIndex, int256 shortIndex, int256 snapshot) internal pure returns (int256) {
        if (size == 0) return 0;
        return owed(size, (size > 0 ? longIndex : shortIndex) - snapshot);
    }

    /// @notice Move of both indices when `rate` (1e-9 per interval) accrues for `dt` of `interval` seconds at
    ///         `mark`; rounded toward zero.
    function indexDelta(uint256 mark, int256 rate, uint256 dt, uint256 interval) internal pure returns (int256) {
        return (int256(mark) * rate * int256(dt)) / (int256(interval) * RATE_DIVISOR);
    }

    /// @notice Largest rate change allowed after `dt` seconds (at most one interval) of `interval`.
    function maxRateStep(uint256 maxRateChange, uint256 dt, uint256 interval) internal pure returns (uint256) {
        return (maxRateChange * dt) / interval;
    }

    /// @notice `requested` clamped to within `step` of `last`, then to [-maxRate, maxRate].
    function clampRate(int256 requested, int256 last, uint256 maxRate, uint256 step) internal pure returns (int256 r) {
        r = requested;
        int256 s = int256(step);
        if (r > last + s) r = last + s;
        if (r < last - s) r = last - s;
        int256 m = int256(maxRate);
        if (r > m) r = m;
        if (r < -m) r = -m;
    }

    /// @notice The rate applied and the index move of a funding update (FundingUpdates.updateFunding) at `now`
    ///         for a market last updated at `lastTime` (0: never, accrues nothing) with rate `lastRate`.
    function update(
        int256 requested,
        int256 lastRate,
        uint256 lastTime,
        uint256 mark,
        uint256 now_,
        uint256 interval,
        uint256 maxRate,
        uint256 maxRateChange
    ) internal pure returns (int256 applied, int256 delta) {
        uint256 dt = lastTime == 0 ? 0 : now_ - lastTime;
        if (dt > interval) dt = interval;
        // The first update may move the rate by a whole interval's change from zero.
        uint256 step = maxRateStep(maxRateChange, lastTime == 0 ? interval : dt, interval);
        applied = clampRate(requested, lastRate, maxRate, step);
        delta = indexDelta(mark, applied, dt, interval);
    }

    /// @notice Move of the charged side's index that charges `amount` over `openInterest` (> 0), rounded up.
    function socialLossDelta(uint256 amount, uint256 openInterest) internal pure returns (int256) {
        return Units.divCeil(int256(amount) * INDEX_DIVISOR, int256(openInterest));
    }
}
