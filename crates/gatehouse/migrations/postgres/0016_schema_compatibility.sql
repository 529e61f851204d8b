-- Which code may still run on this schema. A node whose newest migration is at least
-- `oldest_code_schema` starts on this database even when later migrations are applied (they
-- only added to the schema), so that during a rolling upgrade a node of the previous release
-- may restart. A migration that contracts the schema (drops or renames what earlier code uses)
-- raises it to its own version; until then it stays where it is.
CREATE TABLE schema_compatibility (
    id                  INTEGER PRIMARY KEY CHECK (id = 1),
    oldest_code_schema  BIGINT NOT NULL
);
INSERT INTO schema_compatibility (id, oldest_code_schema) VALUES (1, 14);
