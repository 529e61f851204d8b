-- Account settings. `scim_patch_response`: what a successful SCIM PATCH answers, the resource
-- (200, RFC 7644 §3.5.2's default) or nothing (204, which Entra ID's guide prefers and which
-- spares sending a 100,000-member group back for every membership change).
ALTER TABLE accounts ADD COLUMN scim_patch_response TEXT NOT NULL DEFAULT 'resource'
    CHECK (scim_patch_response IN ('resource', 'no_content'));
