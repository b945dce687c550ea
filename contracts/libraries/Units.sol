// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

/// @title Units
/// @notice The money model of sdk/units.ts, mirrored exactly. Collateral in 6-decimal quote units,
///         price in quote units per whole base unit (6 decimals), size in 1e-8 base units, rates in ppm.
library Units {
    int256 internal constant QUOTE_ONE = 1e6;
    int256 internal constant PRICE_ONE = 1e6;
    int256 internal constant SIZE_ONE = 1e8;
    int256 internal constant RATE_ONE = 1e6;

    /// @notice Floor division (toward negative infinity); `b` must be positive.
    function divFloor(int256 a, int256 b) internal pure returns (int256 q) {
        q = a / b;
        if (a % b != 0 && a < 0) q -= 1;
    }

    /// @notice Ceiling division (toward positive infinity); `b` must be positive.
    function divCeil(int256 a, int256 b) internal pure returns (int256) {
        return -divFloor(-a, b);
    }

    function abs(int256 a) internal pure returns (int256) {
        return a < 0 ? -a : a;
    }

    /// @notice Signed value of a position, rounded down: against the holder (sdk positionValue).
    function positionValue(int256 size, int256 price) internal pure returns (int256) {
        return divFloor(size * price, SIZE_ONE);
    }

    /// @notice Absolute notional rounded up (sdk notionalCeil).
    function notionalCeil(int256 size, int256 price) internal pure returns (int256) {
        return divCeil(abs(size) * price, SIZE_ONE);
    }
}
