-- The PostgreSQL side of demo_app/production.ini: a database owned by the app's role, and a reader role that may
-- only SELECT. Run once, as a superuser, with psql (the names and passwords are psql variables):
--
--   psql -U postgres -v ON_ERROR_STOP=1 -v database=inventory -v owner=inventory -v reader=inventory_reader \
--        -v owner_password="$OWNER_PASSWORD" -v reader_password="$READER_PASSWORD" -f demo_app/postgresql_setup.sql
--
-- The tables are created later by `initialize_demo_db demo_app/production.ini`, connected as the owner: the
-- default privileges below give the reader SELECT on each of them, and nothing else.

CREATE ROLE :"owner" LOGIN PASSWORD :'owner_password';
CREATE ROLE :"reader" LOGIN PASSWORD :'reader_password';
CREATE DATABASE :"database" OWNER :"owner";

\connect :"database"
-- PostgreSQL 15 already keeps CREATE on the public schema from other roles; older versions need this line.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT CONNECT ON DATABASE :"database" TO :"reader";
GRANT USAGE ON SCHEMA public TO :"reader";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public GRANT SELECT ON TABLES TO :"reader";
