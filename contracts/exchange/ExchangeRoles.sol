// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IExchangeEvents} from "../interfaces/IExchangeEvents.sol";
import {IExchangeErrors} from "../interfaces/IExchangeErrors.sol";

/// @title ExchangeRoles
/// @notice The roles of the Exchange. DEFAULT_ADMIN_ROLE grants and revokes the others (issue 3 puts it
///         behind a TimelockController and adds the guardian and funding roles here).
abstract contract ExchangeRoles is AccessControl, IExchangeEvents, IExchangeErrors {
    /// @notice Lists markets.
    bytes32 public constant MARKET_ADMIN_ROLE = keccak256("MARKET_ADMIN_ROLE");
    /// @notice Keys whose EIP-712 signature makes a batch settleable. Several may hold it (rotation).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Withdraws accrued trading fees.
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
}
