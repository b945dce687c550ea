// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Margin} from "../libraries/Margin.sol";
import {Units} from "../libraries/Units.sol";

/// @notice Exposes the Margin and Units libraries to the shared-vector tests (test/sdk/margin.vectors.json).
contract MarginHarness {
    error TradeCashMismatch();

    struct Position {
        int256 sizeBefore;
        int256 sizeAfter;
        int256 mark;
        int256 imfPpm;
        int256 mmfPpm;
    }

    function totals(
        int256 cashBefore,
        int256 cashAfter,
        Position[] calldata positions
    ) external pure returns (Margin.Totals memory t, bool passes) {
        t.equityBefore = cashBefore;
        t.equityAfter = cashAfter;
        for (uint256 i = 0; i < positions.length; ++i) {
            Position calldata p = positions[i];
            Margin.add(t, p.sizeBefore, p.sizeAfter, p.mark, p.imfPpm, p.mmfPpm);
        }
        passes = Margin.passesSettlementCheck(t);
    }

    function trade(
        int256 size,
        int256 price,
        int256 feePpm
    ) external pure returns (int256 buyerPays, int256 sellerReceives, int256 feeCap) {
        (buyerPays, sellerReceives) = Margin.tradeCash(uint64(uint256(size)), uint64(uint256(price)));
        if (buyerPays != Margin.buyerPays(size, price) || sellerReceives != Margin.sellerReceives(size, price)) {
            revert TradeCashMismatch();
        }
        feeCap = Margin.feeCap(size, price, feePpm);
    }

    function units(
        int256 size,
        int256 price
    ) external pure returns (int256 positionValue, int256 notionalCeil, int256 divFloor, int256 divCeil) {
        return (
            Units.positionValue(size, price),
            Units.notionalCeil(size, price),
            Units.divFloor(size, price),
            Units.divCeil(size, price)
        );
    }
}
