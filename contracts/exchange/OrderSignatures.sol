// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.28;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {Agents} from "./Agents.sol";
import {Order} from "../interfaces/ExchangeTypes.sol";

/// @title OrderSignatures
/// @notice EIP-712 domain {name: "PerpX Exchange", version: "1", chainId: block.chainid (live, recomputed
///         after a fork), verifyingContract: this}. An order is authorised by an ECDSA signature (65 bytes,
///         low-s, non-zero recovery: OZ ECDSA) of the account or of a live agent of it, or, for a contract
///         account, by ERC-1271 `isValidSignature`.
abstract contract OrderSignatures is EIP712, Agents {
    bytes32 public constant ORDER_TYPEHASH = keccak256(
        "Order(address account,uint32 market,bool isBuy,bool reduceOnly,"
        "uint64 price,uint64 size,uint64 nonce,uint64 expiry)"
    );

    /// @notice Gas handed to an ERC-1271 wallet; the caller must hold enough that it really gets it.
    uint256 internal constant ERC1271_GAS = 100_000;

    constructor() EIP712("PerpX Exchange", "1") {}

    /// @notice EIP-712 digest of `order` in this Exchange's domain: the order's identity everywhere.
    function hashOrder(Order calldata order) public view returns (bytes32) {
        return _hashTypedDataV4(_orderStructHash(order));
    }

    /// @dev hashStruct(order): the Order struct is all static fields, so its calldata words are its
    ///      EIP-712 encoding. Dirty high bits would only change the hash (no valid signature matches) and
    ///      make every later field access revert.
    function _orderStructHash(Order calldata order) internal pure returns (bytes32 h) {
        bytes32 typehash = ORDER_TYPEHASH;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, typehash)
            calldatacopy(add(ptr, 0x20), order, 0x100)
            h := keccak256(ptr, 0x120)
        }
    }

    /// @dev True when `signature` over `digest` authorises an order of `account`.
    function _isValidOrderSignature(
        address account,
        bytes32 digest,
        bytes calldata signature
    ) internal view returns (bool) {
        (address signer, ECDSA.RecoverError err, ) = ECDSA.tryRecoverCalldata(digest, signature);
        if (err == ECDSA.RecoverError.NoError && (signer == account || _isLiveAgent(account, signer))) return true;
        if (account.code.length == 0) return false;
        return _isValidERC1271(account, digest, signature);
    }

    function _isValidERC1271(address wallet, bytes32 digest, bytes calldata signature) private view returns (bool) {
        if (gasleft() < ERC1271_GAS + ERC1271_GAS / 63 + 5_000) revert InsufficientGas(gasleft());
        (bool ok, bytes memory ret) = wallet.staticcall{gas: ERC1271_GAS}(
            abi.encodeCall(IERC1271.isValidSignature, (digest, signature))
        );
        return ok && ret.length >= 32 && abi.decode(ret, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
