-- Xurrent's generic `source` and `sourceID` fields on webhooks and webhook policies: an
-- integration that creates records sets them to find its records again. Expand-only.

ALTER TABLE webhooks ADD COLUMN source TEXT;
ALTER TABLE webhooks ADD COLUMN source_id TEXT;
ALTER TABLE webhook_policies ADD COLUMN source TEXT;
ALTER TABLE webhook_policies ADD COLUMN source_id TEXT;
