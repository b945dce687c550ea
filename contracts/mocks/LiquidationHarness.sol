// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {LiquidationMath} from "../exchange/Liquidation.sol";
import {InsuranceStorage} from "../exchange/Insurance.sol";
import {Margin} from "../libraries/Margin.sol";

/// @notice Exposes LiquidationMath to the shared-vector tests (test/sdk/liquidation.vectors.json).
contract LiquidationHarness {
    struct Position {
        int256 size;
        uint256 mark;
        uint256 imfPpm;
        uint256 mmfPpm;
    }

    struct AccountResult {
        int256 equity;
        int256 maintenance;
        uint256 maxSize;
        LiquidationMath.Amounts amounts;
        int256 equityAfter;
        int256 maintenanceAfter;
    }

    function penalty(
        uint256 size,
        uint256 mark,
        uint256 mmfPpm
    ) external pure returns (uint256 penalty_, uint256 toLiquidator, uint256 toInsurance) {
        penalty_ = LiquidationMath.penalty(size, mark, mmfPpm);
        (toLiquidator, toInsurance) = LiquidationMath.splitPenalty(penalty_);
    }

    function amounts(
        int256 positionSize,
        uint256 size,
        uint256 mark,
        uint256 mmfPpm
    ) external pure returns (LiquidationMath.Amounts memory) {
        return LiquidationMath.amounts(positionSize > 0, size, mark, mmfPpm);
    }

    function maxSize(
        int256 equity,
        int256 maintenance,
        int256 positionSize,
        uint256 mark,
        uint256 mmfPpm,
        uint256 lotSize
    ) external pure returns (uint256) {
        uint256 abs = uint256(positionSize < 0 ? -positionSize : positionSize);
        return LiquidationMath.maxSize(equity, maintenance, abs, mark, mmfPpm, lotSize);
    }

    function badDebtSplit(uint256 debt, uint256 fund) external pure returns (uint256 covered, uint256 rest) {
        return LiquidationMath.badDebtSplit(debt, fund);
    }

    /// @notice The contract's path on plain numbers: totals (Margin), maxSize, the takeover of maxSize, totals after.
    function account(
        int256 cash,
        Position[] calldata positions,
        uint256 index,
        uint256 lotSize
    ) external pure returns (AccountResult memory r) {
        Margin.Totals memory t = _totals(cash, positions, index, 0);
        r.equity = t.equityAfter;
        r.maintenance = t.mmAfter;
        Position calldata p = positions[index];
        uint256 abs = uint256(p.size < 0 ? -p.size : p.size);
        r.maxSize = LiquidationMath.maxSize(t.equityAfter, t.mmAfter, abs, p.mark, p.mmfPpm, lotSize);
        if (r.maxSize == 0) return r;
        r.amounts = LiquidationMath.amounts(p.size > 0, r.maxSize, p.mark, p.mmfPpm);
        t = _totals(cash + r.amounts.accountCashDelta, positions, index, r.maxSize);
        r.equityAfter = t.equityAfter;
        r.maintenanceAfter = t.mmAfter;
    }

    /// @notice The insurance fund's ERC-7201 slot constant (checked against its formula by the tests).
    function insuranceSlot() external pure returns (bytes32) {
        return InsuranceStorage.SLOT;
    }

    function _totals(
        int256 cash,
        Position[] calldata positions,
        uint256 index,
        uint256 taken
    ) private pure returns (Margin.Totals memory t) {
        t.equityAfter = cash;
        for (uint256 i = 0; i < positions.length; ++i) {
            Position calldata p = positions[i];
            int256 s = p.size;
            if (i == index) s = s > 0 ? s - int256(taken) : s + int256(taken);
            Margin.add(t, s, s, int256(p.mark), int256(p.imfPpm), int256(p.mmfPpm));
        }
    }
}
