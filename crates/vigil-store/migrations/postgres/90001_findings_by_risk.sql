-- Findings by risk for the console's ranked list (#9): a tenant's
-- findings walked in risk order, ties by id, from a (risk, id) cursor.
CREATE INDEX findings_risk ON findings (tenant, risk DESC, id);
