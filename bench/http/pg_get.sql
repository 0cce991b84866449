\set r random(1, :cases)
SELECT case_id, business_key, case_type, client_id, client_type, status, status_description, source, creation_date, update_date
  FROM entries WHERE case_id = 'case-' || :r ORDER BY seq DESC LIMIT 1;
