// AccessControl roles and the EIP-712 domain.
import { Bytes, crypto, ethereum } from "@graphprotocol/graph-ts";
import { EIP712DomainChanged, RoleAdminChanged, RoleGranted, RoleRevoked } from "../../generated/Exchange/Exchange";
import { DomainChange, RoleChange, RoleMember } from "../../generated/schema";
import { eventId } from "../entities";

const ROLE_NAMES: string[] = ["MARKET_ADMIN_ROLE", "OPERATOR_ROLE", "TREASURER_ROLE", "GUARDIAN_ROLE", "FUNDING_ROLE"];

/** The role's constant name in contracts/exchange/ExchangeRoles.sol, or its hex id. */
export function roleName(role: Bytes): string {
  if (role.equals(Bytes.fromHexString("0x" + "00".repeat(32)))) return "DEFAULT_ADMIN_ROLE";
  for (let i = 0; i < ROLE_NAMES.length; i++) {
    if (changetype<Bytes>(crypto.keccak256(Bytes.fromUTF8(ROLE_NAMES[i]))).equals(role)) return ROLE_NAMES[i];
  }
  return role.toHexString();
}

function member(role: Bytes, account: Bytes, active: boolean, event: ethereum.Event): void {
  const id = role.concat(account);
  let m = RoleMember.load(id);
  if (m == null) {
    m = new RoleMember(id);
    m.role = role;
    m.roleName = roleName(role);
    m.account = account;
  }
  m.active = active;
  m.updatedAt = event.block.timestamp;
  m.save();
}

function change(event: ethereum.Event, action: string, role: Bytes): RoleChange {
  const c = new RoleChange(eventId(event));
  c.role = role;
  c.roleName = roleName(role);
  c.action = action;
  c.blockNumber = event.block.number;
  c.timestamp = event.block.timestamp;
  c.transactionHash = event.transaction.hash;
  return c;
}

export function handleRoleGranted(event: RoleGranted): void {
  member(event.params.role, event.params.account, true, event);
  const c = change(event, "Granted", event.params.role);
  c.account = event.params.account;
  c.sender = event.params.sender;
  c.save();
}

export function handleRoleRevoked(event: RoleRevoked): void {
  member(event.params.role, event.params.account, false, event);
  const c = change(event, "Revoked", event.params.role);
  c.account = event.params.account;
  c.sender = event.params.sender;
  c.save();
}

export function handleRoleAdminChanged(event: RoleAdminChanged): void {
  const c = change(event, "AdminChanged", event.params.role);
  c.previousAdminRole = event.params.previousAdminRole;
  c.newAdminRole = event.params.newAdminRole;
  c.save();
}

export function handleEIP712DomainChanged(event: EIP712DomainChanged): void {
  const d = new DomainChange(eventId(event));
  d.blockNumber = event.block.number;
  d.timestamp = event.block.timestamp;
  d.transactionHash = event.transaction.hash;
  d.save();
}
