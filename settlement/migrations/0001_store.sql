-- The settlement store: one migration set for SQLite and PostgreSQL alike, so only the portable
-- subset of SQL appears here: TEXT and BIGINT columns, no SERIAL/AUTOINCREMENT/IDENTITY (keys
-- are derived by the application), no BOOLEAN (0/1 BIGINT), no BYTEA/BLOB (payloads as hex TEXT,
-- since the Any driver cannot read a declared BYTEA on SQLite). Times are UTC RFC 3339 text with
-- milliseconds, so they compare and sort as strings.

-- Counters the application increments inside its transaction (e.g. the outbox id).
CREATE TABLE sequences (
    name TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO sequences (name, value) VALUES ('outbox', 0);

-- Store-level secrets (the card-token HMAC key when CLEARWAY_PAN_KEY is not set).
CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Every delivery we recorded, by its dedupe key: `event/<event_id>`, `bank/<status_id>`,
-- `undecodable/<sha256>`. Same key and same hash is a duplicate; a different hash a conflict.
CREATE TABLE inbox (
    key TEXT PRIMARY KEY,
    payload_sha256 TEXT NOT NULL,
    outcome TEXT NOT NULL,
    queue TEXT NOT NULL,
    received_at TEXT NOT NULL
);

-- Clearing items: one per payment (plus a leg suffix for refunds and returns).
CREATE TABLE items (
    id TEXT PRIMARY KEY,
    payment_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    bank TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    seq BIGINT NOT NULL,
    amount_minor BIGINT NOT NULL,
    currency TEXT NOT NULL,
    message_ids TEXT NOT NULL,
    msg_id TEXT,
    end_to_end_id TEXT,
    uetr TEXT,
    stan TEXT,
    rrn TEXT,
    card_token TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX items_state ON items (state);
CREATE INDEX items_bank_end_to_end ON items (bank, end_to_end_id);
CREATE INDEX items_bank_stan_rrn ON items (bank, stan, rrn);

-- Every message reference an answer may quote, to the item it belongs to:
-- `card/<bank>/<stan>/<rrn>`, `msg/<bank>/<MsgId>`, `e2e/<bank>/<EndToEndId>`, `uetr/<UETR>`.
CREATE TABLE refs (
    ref TEXT PRIMARY KEY,
    item_id TEXT NOT NULL,
    message_type TEXT NOT NULL
);

-- Append-only history: every input an item saw, applied or not.
CREATE TABLE transitions (
    item_id TEXT NOT NULL,
    seq BIGINT NOT NULL,
    from_state TEXT,
    to_state TEXT NOT NULL,
    input TEXT NOT NULL,
    cause_key TEXT NOT NULL,
    applied BIGINT NOT NULL,
    note TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (item_id, seq)
);

-- Messages to publish, written in the transaction of the effect that caused them.
CREATE TABLE outbox (
    id BIGINT PRIMARY KEY,
    exchange TEXT NOT NULL,
    routing_key TEXT NOT NULL,
    message_id TEXT NOT NULL UNIQUE,
    headers TEXT NOT NULL,
    payload_hex TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    claimed_until TEXT,
    published_at TEXT
);
CREATE INDEX outbox_unpublished ON outbox (ordering_key, id) WHERE published_at IS NULL;

-- Deliveries we could not apply; the broker publishes their bodies, unchanged, to clearway.dlx.
-- The copy kept here is masked: the text (or, for a binary body, its hex) with every run of 13
-- or more digits reduced to its first 6 and last 4, so no card number lands in the database.
CREATE TABLE dead_letters (
    key TEXT NOT NULL,
    queue TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    payload_masked TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX dead_letters_reason ON dead_letters (reason);

-- Card numbers as tokens: HMAC-SHA256 under the store's key, and the masked form. Never the PAN.
CREATE TABLE card_tokens (
    token TEXT PRIMARY KEY,
    masked TEXT NOT NULL,
    created_at TEXT NOT NULL
);
