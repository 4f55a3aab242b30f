-- The relay's claim walks the unpublished rows in id order and stops at its limit. With only
-- `outbox_unpublished` (ordering_key, id) it had no ordered path over them: it walked the
-- primary key through every published row or, on PostgreSQL, read all unpublished rows and
-- sorted them on every claim. This index holds exactly the rows the claim looks at, in order.
CREATE INDEX outbox_pending ON outbox (id) WHERE published_at IS NULL;

-- The relay's leases, apart from the rows: a claim writes this narrow row instead of rewriting
-- the outbox row (payload included) that it leases, and the mark deletes it. A lease still in
-- `outbox.claimed_until` (written before this migration) is honoured until it runs out.
CREATE TABLE outbox_leases (
    id BIGINT PRIMARY KEY,
    claimed_until TEXT NOT NULL
);
