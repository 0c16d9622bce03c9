-- The sales funnel a new installation starts with; editable through /api/v1/stages.
INSERT INTO stages (name, position, is_mql, created_at) VALUES
  ('Attract', 1, 0, CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  ('Engage', 2, 0, CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  ('Convert', 3, 1, CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  ('Close', 4, 0, CAST(unixepoch('subsec') * 1000 AS INTEGER)),
  ('Delight', 5, 0, CAST(unixepoch('subsec') * 1000 AS INTEGER));
