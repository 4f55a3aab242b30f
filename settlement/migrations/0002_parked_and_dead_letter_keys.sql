-- Order under redelivery and several instances (same portable subset as 0001).

-- Follow-ups that arrived before the item they act on (a cancel, a reversal, a dual-message
-- capture before its authorization). The transaction that creates the item applies them, in
-- `occurred_at` then event-id order, and deletes them. The body is sealed like the outbox's
-- (card events hold a PAN), under the inbox key as associated data.
CREATE TABLE parked (
    key TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    payload_sha256 TEXT NOT NULL,
    body_sealed_hex TEXT NOT NULL,
    queue TEXT NOT NULL,
    parked_at TEXT NOT NULL
);
CREATE INDEX parked_item ON parked (item_id);

-- A dead letter is recorded once per key and payload: a redelivered conflict or poison is
-- absorbed. Rows from before this migration have no hash (NULLs never collide in a unique index).
ALTER TABLE dead_letters ADD COLUMN payload_sha256 TEXT;
CREATE UNIQUE INDEX dead_letters_key_payload ON dead_letters (key, payload_sha256);
