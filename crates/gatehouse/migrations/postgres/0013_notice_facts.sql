-- A notice keeps what happened (`facts`) and its mail is composed when it is sent or shown, by
-- the delivery layer, with the links of the server that sends it. Notices stored before keep
-- the subject and body they were composed with.
ALTER TABLE webhook_notifications
    ADD COLUMN facts JSONB,
    ALTER COLUMN subject DROP NOT NULL,
    ALTER COLUMN body DROP NOT NULL,
    ADD CONSTRAINT webhook_notifications_facts_or_mail
        CHECK (facts IS NOT NULL OR (subject IS NOT NULL AND body IS NOT NULL));
