SELECT count(*) FROM entries WHERE status = 'OPEN' AND case_type = 'LOAN';
SELECT case_id, business_key, case_type, client_id, client_type, status, status_description, source, creation_date, update_date
  FROM entries WHERE status = 'OPEN' AND case_type = 'LOAN' ORDER BY creation_date DESC, seq DESC LIMIT 20;
