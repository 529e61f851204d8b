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
    hour        TIMESTAMPTZ NOT NULL,
    webhook_id  UUID NOT NULL,
    recorder    UUID NOT NULL,
    succeeded   BIGINT NOT NULL DEFAULT 0,
    retrying    BIGINT NOT NULL DEFAULT 0,
    failed      BIGINT NOT NULL DEFAULT 0,
    ms_10       BIGINT NOT NULL DEFAULT 0,
    ms_25       BIGINT NOT NULL DEFAULT 0,
    ms_50       BIGINT NOT NULL DEFAULT 0,
    ms_100      BIGINT NOT NULL DEFAULT 0,
    ms_250      BIGINT NOT NULL DEFAULT 0,
    ms_500      BIGINT NOT NULL DEFAULT 0,
    ms_1000     BIGINT NOT NULL DEFAULT 0,
    ms_2500     BIGINT NOT NULL DEFAULT 0,
    ms_5000     BIGINT NOT NULL DEFAULT 0,
    ms_10000    BIGINT NOT NULL DEFAULT 0,
    ms_more     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, hour, webhook_id, recorder)
);

-- SCIM Users the provisioning client created, updated and deactivated (an update that set
-- `active` to false, or a delete), per account and UTC day.
CREATE TABLE scim_changes_daily (
    account_id   TEXT NOT NULL,
    day          TIMESTAMPTZ NOT NULL,
    created      BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    deactivated  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, day)
);
