-- The /models page reads the previous version of the machines on its page, not the whole
-- promotion history.
CREATE INDEX promotions_by_machine ON promotions (machine_id, id);
