// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title ExchangeTimelock
/// @notice The Exchange's DEFAULT_ADMIN_ROLE holder in every deployment (scripts/lib/deployExchange.ts): an
///         unmodified OpenZeppelin TimelockController. Its minDelay exceeds the forced-exit grace period plus
///         the exit window, so any admin action can be seen coming and escaped (forced request, freeze,
///         escape) before it executes; ExitParams refuses parameters that would break this.
contract ExchangeTimelock is TimelockController {
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
