// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC20Metadata} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import {Settlement} from "./exchange/Settlement.sol";
import {Vault} from "./exchange/Vault.sol";

/// @title Exchange
/// @notice Perpetual-futures exchange: orders matched off-chain, settled here in operator-signed batches.
///         Holds all collateral and positions. Composed of one-concern modules in contracts/exchange/:
///         ExchangeRoles, Accounts, Markets, Oracle, Risk, Vault, Agents, OrderSignatures, Nonces, Settlement.
///         See contracts/README.md.
contract Exchange is Settlement, Vault {
    constructor(IERC20Metadata collateral_, address admin) Vault(collateral_) {
        if (admin == address(0)) revert ZeroAddress();
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }
}
