-- A mirror may offer rsync only (issue 16): the check of patch 0001 that a
-- mirror has a URL counts its rsync URL too.
--
-- PostgreSQL named the unnamed check distribution_mirror_check.  SQLite
-- cannot drop a check, and rebuilding the table would cascade its foreign
-- keys; SQLite's documented way to change a check that no stored row
-- breaks is to rewrite the table's text in its schema (the runner then
-- bumps the schema's version, so every connection reads it again).
/* postgresql */ ALTER TABLE distribution_mirror
    DROP CONSTRAINT distribution_mirror_check;
/* postgresql */ ALTER TABLE distribution_mirror
    ADD CONSTRAINT distribution_mirror_check
    CHECK (http_base_url IS NOT NULL OR https_base_url IS NOT NULL
           OR ftp_base_url IS NOT NULL OR rsync_base_url IS NOT NULL);
/* sqlite */ PRAGMA writable_schema = ON;
/* sqlite */ UPDATE sqlite_master
    SET sql = replace(sql, 'OR ftp_base_url IS NOT NULL)',
                      'OR ftp_base_url IS NOT NULL
           OR rsync_base_url IS NOT NULL)')
    WHERE type = 'table' AND name = 'distribution_mirror';
/* sqlite */ PRAGMA writable_schema = OFF;
