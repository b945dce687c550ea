// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {ExchangeRoles} from "./ExchangeRoles.sol";

/// @title Agents
/// @notice Agent ("API wallet") keys: an account authorises a key to sign orders and cancels on its
///         behalf until an expiry. Agents can never withdraw. Revoking (expiry 0) takes effect at once for
///         every order the agent signed that is not yet settled, including partially filled ones.
abstract contract Agents is ExchangeRoles {
    mapping(address account => mapping(address agent => uint64 expiry)) internal _agentExpiry;

    function _isLiveAgent(address account, address agent) internal view returns (bool) {
        return _agentExpiry[account][agent] >= block.timestamp;
    }

    /// @dev The caller is `account` or one of its live agents.
    function _requireAccountOrAgent(address account) internal view {
        if (msg.sender != account && !_isLiveAgent(account, msg.sender)) {
            revert NotAccountOrAgent(msg.sender, account);
        }
    }
}
