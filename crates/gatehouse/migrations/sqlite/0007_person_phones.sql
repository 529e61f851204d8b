-- A person's phones, as the SCIM mapping gives them (spec/README.md "SCIM Users":
-- phoneNumbers work/mobile → phones): the User's work and mobile numbers.
ALTER TABLE people ADD COLUMN work_phone TEXT;
ALTER TABLE people ADD COLUMN mobile_phone TEXT;
