-- Look-alike identities: `userName`, emails and display names now compare by their key,
-- `scim::text::fold` (NFKC, full case folding, trimmed) instead of the lower-casing that made
-- the `*_key` columns until now. SQL cannot compute that fold, so `Store::migrate` recomputes
-- every key in Rust right after the SQL migrations, once per fold version: this one row
-- records the version the stored keys were made with (0: lower-cased, before the fold), and
-- when they were last recomputed. See crates/gatehouse/src/store/key_fold.rs.
CREATE TABLE key_fold_version (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    version      BIGINT NOT NULL,
    refolded_at  TIMESTAMPTZ
);
INSERT INTO key_fold_version (id, version) VALUES (1, 0);
