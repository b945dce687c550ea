-- Transaction manager (keeper/tx): one intent per payload (unique key), one nonce per intent, every
-- signed attempt recorded before it is broadcast.
CREATE TABLE tx_intents (
  id bigserial PRIMARY KEY,
  key text NOT NULL UNIQUE,
  chain_id bigint NOT NULL,
  sender text NOT NULL,
  nonce bigint NOT NULL,
  to_addr text NOT NULL,
  data text NOT NULL,
  value numeric(78, 0) NOT NULL DEFAULT 0,
  gas_limit numeric(78, 0) NOT NULL,
  -- pending: not mined yet; mined: in a block, waiting for confirmations; confirmed: final
  -- (receipt_status says success or reverted); superseded: the nonce was consumed by a transaction
  -- that is not one of ours (never expected; reported)
  status text NOT NULL DEFAULT 'pending',
  mined_hash text,
  mined_block bigint,
  mined_block_hash text,
  receipt_status text,
  gas_used numeric(78, 0),
  effective_gas_price numeric(78, 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (chain_id, sender, nonce)
);
CREATE INDEX tx_intents_open ON tx_intents (chain_id, sender, status);

CREATE TABLE tx_attempts (
  hash text PRIMARY KEY,
  intent_id bigint NOT NULL REFERENCES tx_intents (id),
  attempt integer NOT NULL,
  max_fee_per_gas numeric(78, 0) NOT NULL,
  max_priority_fee_per_gas numeric(78, 0) NOT NULL,
  raw text NOT NULL,
  -- chain head when first broadcast (null: recorded, broadcast not yet acknowledged)
  sent_block bigint,
  sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (intent_id, attempt)
);
