-- Limits that hold for every process of one database (a token's requests per minute, a
-- webhook's attempts per second): each process reserves a share of a fixed window's limit
-- here before it spends it. `asked` sums every reservation, granted or not; a reservation is
-- granted what was left of the limit before it. Rows of past windows are swept by upkeep.
CREATE TABLE quota_windows (
    key          TEXT NOT NULL,
    window_start INTEGER NOT NULL,
    asked        INTEGER NOT NULL,
    PRIMARY KEY (key, window_start)
);
