// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IExchangeEvents} from "../interfaces/IExchangeEvents.sol";
import {IExchangeErrors} from "../interfaces/IExchangeErrors.sol";

/// @title ExchangeRoles
/// @notice The roles of the Exchange. DEFAULT_ADMIN_ROLE (a TimelockController in every deployment) grants
///         and revokes the others.
abstract contract ExchangeRoles is AccessControl, IExchangeEvents, IExchangeErrors {
    /// @notice Lists markets.
    bytes32 public constant MARKET_ADMIN_ROLE = keccak256("MARKET_ADMIN_ROLE");
    /// @notice Keys whose EIP-712 signature makes a batch settleable. Several may hold it (rotation).
    bytes32 public constant OPERATOR_ROLE = keccak256("OPERATOR_ROLE");
    /// @notice Withdraws accrued trading fees.
    bytes32 public constant TREASURER_ROLE = keccak256("TREASURER_ROLE");
    /// @notice Pauses trading and fast withdrawals for a bounded time; never the exits.
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    /// @notice Pushes funding rates (clamped).
    bytes32 public constant FUNDING_ROLE = keccak256("FUNDING_ROLE");
}
