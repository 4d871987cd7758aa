-- When each signing key given in the environment (TRUYXUAT_SIGNING_KEY, which has no key
-- folder and so no record of its own) was first seen by this service: keys.json publishes
-- it as valid from then.
CREATE TABLE env_signing_keys (
    kid           TEXT PRIMARY KEY,
    first_seen_at TIMESTAMPTZ NOT NULL
);
