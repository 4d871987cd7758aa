-- Why an inspector rejected or revoked a certificate, shown to shoppers beside the decision.
ALTER TABLE certifications ADD COLUMN status_reason TEXT;
