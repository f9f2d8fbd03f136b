-- schema/current_version: the newest applied migration, as dbmate records it.
SELECT max(version) AS version FROM schema_migrations;
