-- A producer suspended by an inspector or an operator: its people may read but not change
-- its records until it is reinstated; its label pages say so.
ALTER TABLE organizations ADD COLUMN suspended_at TIMESTAMPTZ;
ALTER TABLE organizations ADD COLUMN suspension_reason TEXT;
