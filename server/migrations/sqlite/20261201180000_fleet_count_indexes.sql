-- The fleet page counts machines by status and lists their profiles, and /models counts them
-- by profile and active version, on every view: from these indexes instead of reading every
-- machine row (33 ms for the fleet page of 10,000 machines against 3.2 ms for 10).
CREATE INDEX machines_by_status ON machines (status);
CREATE INDEX machines_by_profile_version ON machines (profile, active_model_version_id);
