-- The fleet page sorts, filters and pages in SQL on indexes instead of ranking every machine per
-- view (8.5 MB of HTML at 10,000 machines). risk_order: the machine's rank by risk, smaller is
-- riskier, kept on the row (domain::risk::RiskRank::order; this backfill is its SQL,
-- risk_order_sql, and a test holds the two to the same values). place: where the machine
-- stands (a hall, a line, a site), to filter the fleet by.
ALTER TABLE machines ADD COLUMN place VARCHAR(64) NULL;
ALTER TABLE machines ADD COLUMN risk_order DOUBLE NOT NULL DEFAULT 19;
UPDATE machines SET risk_order = (4 * (CASE status WHEN 'critical' THEN 0 WHEN 'warning' THEN 1
        WHEN 'training' THEN 2 WHEN 'healthy' THEN 3 WHEN 'unknown' THEN 4 ELSE 4 END) + CASE
    WHEN failure_probability IS NOT NULL THEN 1 - failure_probability
    WHEN remaining_life > 0 THEN 2 + remaining_life / (remaining_life + 1000.0)
    WHEN remaining_life IS NOT NULL THEN 2 ELSE 3 END);
CREATE INDEX machines_by_risk ON machines (risk_order, name);
CREATE INDEX machines_by_place ON machines (place);
