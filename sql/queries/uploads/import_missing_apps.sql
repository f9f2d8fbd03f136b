-- uploads/import_missing_apps: the apps an import names that this database
-- does not have (`drover import` refuses the archive then; create them first).
-- $1 app names
SELECT DISTINCT n.name FROM unnest($1::text[]) AS n(name)
WHERE NOT EXISTS (SELECT 1 FROM drover.apps a WHERE a.name = n.name)
ORDER BY n.name;
