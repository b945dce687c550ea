// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IExchangeVault {
    function deposit(uint256 amount) external;

    function requestWithdrawal(uint256 amount) external;
}

/// @notice Contract wallet that accepts signatures by its owner key (ERC-1271), for tests.
contract MockERC1271Wallet is IERC1271 {
    address public immutable owner;
    bool public gasHog;

    constructor(address owner_) {
        owner = owner_;
    }

    function setGasHog(bool on) external {
        gasHog = on;
    }

    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        if (gasHog) {
            uint256 x;
            while (gasleft() > 100) x++;
        }
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(hash, signature);
        return err == ECDSA.RecoverError.NoError && signer == owner ? this.isValidSignature.selector : bytes4(0);
    }

    function approveAndDeposit(IERC20 token, address exchange, uint256 amount) external {
        token.approve(exchange, amount);
        IExchangeVault(exchange).deposit(amount);
    }
}
