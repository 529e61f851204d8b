-- What the console's overview and webhook pages chart, kept as it happens so no chart reads
-- deliveries or events (issue 21): attempts per hour by outcome with their latencies, and SCIM
-- changes per day. Expand-only: nodes of the previous release neither write nor read these
-- tables (their attempts are missing from the charts, nothing else).
--
-- One row per account, hour, webhook and recording process (`recorder`, a delivering
-- process's worker id): each process adds to rows of its own, so processes recording at once
-- never wait on each other's row locks. `retrying` counts failed attempts that will be tried
-- again, `failed` those that ended their delivery. The `ms_*` columns count attempts by
-- duration: at most 10 ms, 25, 50, 100, 250, 500, 1,000, 2,500, 5,000, 10,000, longer.
CREATE TABLE delivery_stats (
    account_id  TEXT NOT NULL,
    hour        TEXT NOT NULL,
    webhook_id  BLOB NOT NULL,
    recorder    BLOB NOT NULL,
    succeeded   INTEGER NOT NULL DEFAULT 0,
    retrying    INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    ms_10       INTEGER NOT NULL DEFAULT 0,
    ms_25       INTEGER NOT NULL DEFAULT 0,
    ms_50       INTEGER NOT NULL DEFAULT 0,
    ms_100      INTEGER NOT NULL DEFAULT 0,
    ms_250      INTEGER NOT NULL DEFAULT 0,
    ms_500      INTEGER NOT NULL DEFAULT 0,
    ms_1000     INTEGER NOT NULL DEFAULT 0,
    ms_2500     INTEGER NOT NULL DEFAULT 0,
    ms_5000     INTEGER NOT NULL DEFAULT 0,
    ms_10000    INTEGER NOT NULL DEFAULT 0,
    ms_more     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, hour, webhook_id, recorder)
) STRICT;

-- SCIM Users the provisioning client created, updated and deactivated (an update that set
-- `active` to false, or a delete), per account and UTC day.
CREATE TABLE scim_changes_daily (
    account_id   TEXT NOT NULL,
    day          TEXT NOT NULL,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    deactivated  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
) STRICT;
