\set r random(1, 1000000000)
INSERT INTO entries (case_id, case_type, client_id, client_type, status, source, creation_date, update_date, is_current)
  VALUES ('new-' || :client_id || '-' || :r, 'LOAN', '12345678901', 'PESEL', 'NEW', 'PORTAL', now(), now(), true);
