// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {ExchangeRoles} from "./ExchangeRoles.sol";

/// @title Collateral
/// @notice The collateral token, an immutable shared by the Exchange and its extension (immutables live in
///         code, so the delegatecalled extension carries its own copy; the Exchange checks they match).
abstract contract Collateral is ExchangeRoles {
    /// @notice The collateral token (6 decimals).
    IERC20 public immutable collateral;

    constructor(IERC20Metadata token) {
        if (address(token) == address(0)) revert ZeroAddress();
        uint8 dec = token.decimals();
        if (dec != 6) revert UnsupportedCollateralDecimals(dec);
        collateral = token;
    }
}
