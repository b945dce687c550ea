// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {Agents} from "./Agents.sol";

/// @title AgentKeys
/// @notice Setting and reading agent keys (Exchange only: kept out of the bases the extension inherits).
abstract contract AgentKeys is Agents {
    /// @notice Authorises `agent` for the caller until `expiry` (unix seconds, inclusive); 0 revokes.
    function setAgent(address agent, uint64 expiry) external {
        if (agent == address(0)) revert ZeroAddress();
        if (agent == msg.sender) revert AgentIsAccount(agent);
        _agentExpiry[msg.sender][agent] = expiry;
        emit AgentSet(msg.sender, agent, expiry);
    }

    /// @notice Expiry of `agent` for `account` (0 = not an agent).
    function agentExpiry(address account, address agent) external view returns (uint64) {
        return _agentExpiry[account][agent];
    }
}
