-- Nothing to change on SQLite. On PostgreSQL this adds the sequence that numbers the deliveries
-- of events published in one statement (issue 17); SQLite appends published events in a
-- transaction of several statements, in this process, and mints delivery ids with the
-- process's own count. The two backends keep the same schema numbers.
SELECT 1;
