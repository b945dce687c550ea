// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Units} from "./Units.sol";

/// @title Margin
/// @notice The margin formula and settlement arithmetic of sdk/margin.ts, mirrored exactly and tested
///         against the shared vectors in test/sdk/margin.vectors.json.
///
///   equity        = cash + sum floor(size_i * mark_i / SIZE_ONE)
///   requirement_f = sum ceil(ceil(|size_i| * mark_i / SIZE_ONE) * f_i / RATE_ONE)
///
/// Every rounding goes against the account, so the Exchange stays solvent.
library Margin {
    /// @notice Running totals over an account's positions, before and after a change.
    struct Totals {
        int256 equityBefore;
        int256 mmBefore;
        int256 equityAfter;
        int256 imAfter;
        int256 mmAfter;
        bool riskGrew;
    }

    /// @notice Margin requirement of one position with fraction `fractionPpm` (sdk positionRequirement).
    function positionRequirement(int256 size, int256 mark, int256 fractionPpm) internal pure returns (int256) {
        return Units.divCeil(Units.notionalCeil(size, mark) * fractionPpm, Units.RATE_ONE);
    }

    /// @notice True when the position grew in absolute size or changed side (sdk riskGrew, per market).
    function grew(int256 sizeBefore, int256 sizeAfter) internal pure returns (bool) {
        if (sizeAfter == 0) return false;
        return Units.abs(sizeAfter) > Units.abs(sizeBefore) || (sizeBefore != 0 && (sizeBefore > 0) != (sizeAfter > 0));
    }

    /// @notice Adds one market's position before and after to the totals.
    /// @dev Callers pass |size| < 2^96 and 0 < mark < 2^64 (sizes are int64 in storage, at most 2^16 fills of
    ///      uint64 size per batch; marks are bounded by the market's uint64 maxPrice) and fractions in
    ///      [0, 1e6], so every product below fits 256 bits and the unchecked arithmetic is exact.
    function add(
        Totals memory t,
        int256 sizeBefore,
        int256 sizeAfter,
        int256 mark,
        int256 imfPpm,
        int256 mmfPpm
    ) internal pure {
        // Each value and requirement is below 2^160 and there are at most 64 markets; cash is an int120:
        // the running sums stay far inside int256, so the unchecked additions are exact.
        unchecked {
            if (sizeBefore != 0) {
                (int256 value, int256 notional) = _valueAndNotional(sizeBefore, mark);
                t.equityBefore += value;
                t.mmBefore += _fractionCeil(notional, mmfPpm);
            }
            if (sizeAfter != 0) {
                (int256 value, int256 notional) = _valueAndNotional(sizeAfter, mark);
                t.equityAfter += value;
                t.imAfter += _fractionCeil(notional, imfPpm);
                t.mmAfter += _fractionCeil(notional, mmfPpm);
                if (grew(sizeBefore, sizeAfter)) t.riskGrew = true;
            }
        }
    }

    /// @dev (floor(size*mark/SIZE_ONE), ceil(|size|*mark/SIZE_ONE)): Units.positionValue and notionalCeil.
    function _valueAndNotional(int256 size, int256 mark) private pure returns (int256 value, int256 notional) {
        unchecked {
            uint256 prod = uint256(size < 0 ? -size : size) * uint256(mark);
            uint256 q = prod / uint256(Units.SIZE_ONE);
            uint256 up = prod % uint256(Units.SIZE_ONE) == 0 ? q : q + 1;
            notional = int256(up);
            value = size >= 0 ? int256(q) : -int256(up); // floor of a negative value = -ceil of its magnitude
        }
    }

    /// @dev ceil(notional * fractionPpm / RATE_ONE) for notional, fraction >= 0 (positionRequirement).
    function _fractionCeil(int256 notional, int256 fractionPpm) private pure returns (int256) {
        unchecked {
            return
                int256(
                    (uint256(notional) * uint256(fractionPpm) + uint256(Units.RATE_ONE) - 1) / uint256(Units.RATE_ONE)
                );
        }
    }

    /// @notice The settlement rule (sdk passesSettlementCheck): initial margin after if risk grew,
    ///         otherwise initial margin after, or equity not negative and maintenance health not worse
    ///         (a bankrupt account cannot trade itself flat into uncovered debt: liquidation closes it).
    function passesSettlementCheck(Totals memory t) internal pure returns (bool) {
        if (t.equityAfter >= t.imAfter) return true;
        if (t.riskGrew) return false;
        if (t.equityAfter < 0) return false;
        return t.equityAfter - t.mmAfter >= t.equityBefore - t.mmBefore;
    }

    /// @notice Quote units the buyer pays for `size` at `price`: rounded up.
    function buyerPays(int256 size, int256 price) internal pure returns (int256) {
        return Units.divCeil(size * price, Units.SIZE_ONE);
    }

    /// @notice Quote units the seller receives for `size` at `price`: rounded down.
    function sellerReceives(int256 size, int256 price) internal pure returns (int256) {
        return Units.divFloor(size * price, Units.SIZE_ONE);
    }

    /// @notice (buyerPays, sellerReceives) for uint64 size and price, without signed-division overhead.
    function tradeCash(uint64 size, uint64 price) internal pure returns (int256 pays, int256 gets) {
        unchecked {
            uint256 prod = uint256(size) * uint256(price); // < 2^128
            uint256 q = prod / uint256(Units.SIZE_ONE);
            gets = int256(q);
            pays = prod % uint256(Units.SIZE_ONE) == 0 ? gets : gets + 1;
        }
    }

    /// @notice Highest fee a fill may charge at `ratePpm`: ceil(size*price*rate / (SIZE_ONE*RATE_ONE)).
    ///         For a negative rate (rebate) this is the smallest rebate owed, rounded toward zero.
    function feeCap(int256 size, int256 price, int256 ratePpm) internal pure returns (int256) {
        return Units.divCeil(size * price * ratePpm, Units.SIZE_ONE * Units.RATE_ONE);
    }
}
