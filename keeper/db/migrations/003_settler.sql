-- Settler (keeper/settler): fills taken from the durable log (cursor and rows in one transaction),
-- batches with their exact calldata, persisted before submission.
CREATE TABLE settle_cursor (
  stream text PRIMARY KEY,
  last_id text NOT NULL
);

CREATE TABLE settle_fills (
  trade_id bigint PRIMARY KEY,
  seq bigserial NOT NULL,
  stream_id text NOT NULL,
  payload jsonb NOT NULL,
  -- queued -> batched -> settled | skipped | failed (a failed batch returns its fills to queued)
  status text NOT NULL DEFAULT 'queued',
  batch_number bigint,
  reason text,
  received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX settle_fills_status ON settle_fills (status, seq);

CREATE TABLE settle_batches (
  number bigint PRIMARY KEY,
  revision integer NOT NULL DEFAULT 0,
  -- built (signed, not yet handed to the tx manager) -> submitted -> settled | failed
  status text NOT NULL,
  trade_ids jsonb NOT NULL,
  deadline bigint NOT NULL,
  calldata text NOT NULL,
  tx_key text,
  tx_hash text,
  block_number bigint,
  gas_used numeric(78, 0),
  created_at timestamptz NOT NULL DEFAULT now(),
  settled_at timestamptz
);
