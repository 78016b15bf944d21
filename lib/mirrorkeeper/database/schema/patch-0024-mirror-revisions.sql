-- A mirror's revision: how many times what the read model says of it
-- (model/mirrorstate.py) may have changed.  The database keeps it itself,
-- in the transaction of each change, whoever the writer is (the web, the
-- command line, the prober, a check-in): a change to the mirror's row, to
-- a record of what it carries or of a probe, or to the name of its
-- distribution, country, continent, site or owner adds one to the
-- revisions of the mirrors it concerns.  A deleted mirror's revision goes
-- to its distribution's, so that the sum of every revision only grows:
-- the caches of the web daemon compare (mirrors, sum of revisions) to
-- know whether an answer still holds (web/answers.py).
--
-- Each mirror has a counter of its own, not one for the whole database,
-- so that writers of different mirrors (the prober's workers, on
-- PostgreSQL's repeatable read) never wait for nor undo each other.
-- A table the read model comes to read needs its triggers here too.

ALTER TABLE distribution_mirror
    ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE distribution
    ADD COLUMN mirror_revisions INTEGER NOT NULL DEFAULT 0;

-- PostgreSQL: a change to a mirror's row counts itself; one to a row of
-- its records counts on the mirror's (the mirror's own trigger adds the
-- one); a deleted mirror's count goes to its distribution.

/* postgresql */ CREATE FUNCTION mirror_row_revised() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.revision := OLD.revision + 1;
    RETURN NEW;
END
$$;

/* postgresql */ CREATE TRIGGER distribution_mirror_revised
    BEFORE UPDATE ON distribution_mirror
    FOR EACH ROW EXECUTE FUNCTION mirror_row_revised();

/* postgresql */ CREATE FUNCTION mirror_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distribution
       SET mirror_revisions = mirror_revisions + OLD.revision + 1
     WHERE id = OLD.distribution;
    RETURN NULL;
END
$$;

/* postgresql */ CREATE TRIGGER distribution_mirror_deleted
    AFTER DELETE ON distribution_mirror
    FOR EACH ROW EXECUTE FUNCTION mirror_deleted();

-- A record's change counts once per statement, not once per row: the
-- prober applies a mirror's hundreds of records in a few statements, and a
-- trigger per row would update the mirror's row as many times (three times
-- the cost of applying, and as many dead row versions).  PostgreSQL gives
-- a statement's rows to its trigger as transition tables, which a trigger
-- of more than one event cannot have: one trigger per event.

/* postgresql */ CREATE FUNCTION mirror_records_inserted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distribution_mirror SET revision = revision
     WHERE id IN (SELECT distribution_mirror FROM new_records);
    RETURN NULL;
END
$$;

/* postgresql */ CREATE FUNCTION mirror_records_updated() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distribution_mirror SET revision = revision
     WHERE id IN (SELECT distribution_mirror FROM new_records
                  UNION SELECT distribution_mirror FROM old_records);
    RETURN NULL;
END
$$;

/* postgresql */ CREATE FUNCTION mirror_records_deleted() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distribution_mirror SET revision = revision
     WHERE id IN (SELECT distribution_mirror FROM old_records);
    RETURN NULL;
END
$$;

/* postgresql */ CREATE TRIGGER mirror_distro_arch_series_inserted
    AFTER INSERT ON mirror_distro_arch_series REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_distro_arch_series_updated
    AFTER UPDATE ON mirror_distro_arch_series
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_distro_arch_series_deleted
    AFTER DELETE ON mirror_distro_arch_series REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE TRIGGER mirror_distro_series_source_inserted
    AFTER INSERT ON mirror_distro_series_source REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_distro_series_source_updated
    AFTER UPDATE ON mirror_distro_series_source
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_distro_series_source_deleted
    AFTER DELETE ON mirror_distro_series_source REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE TRIGGER mirror_rpm_repository_inserted
    AFTER INSERT ON mirror_rpm_repository REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_rpm_repository_updated
    AFTER UPDATE ON mirror_rpm_repository
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_rpm_repository_deleted
    AFTER DELETE ON mirror_rpm_repository REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE TRIGGER mirror_cd_image_distro_series_inserted
    AFTER INSERT ON mirror_cd_image_distro_series REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_cd_image_distro_series_updated
    AFTER UPDATE ON mirror_cd_image_distro_series
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_cd_image_distro_series_deleted
    AFTER DELETE ON mirror_cd_image_distro_series REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE TRIGGER mirror_freshness_check_inserted
    AFTER INSERT ON mirror_freshness_check REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_freshness_check_updated
    AFTER UPDATE ON mirror_freshness_check
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_freshness_check_deleted
    AFTER DELETE ON mirror_freshness_check REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE TRIGGER mirror_probe_record_inserted
    AFTER INSERT ON mirror_probe_record REFERENCING NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_inserted();

/* postgresql */ CREATE TRIGGER mirror_probe_record_updated
    AFTER UPDATE ON mirror_probe_record
    REFERENCING OLD TABLE AS old_records NEW TABLE AS new_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_updated();

/* postgresql */ CREATE TRIGGER mirror_probe_record_deleted
    AFTER DELETE ON mirror_probe_record REFERENCING OLD TABLE AS old_records
    FOR EACH STATEMENT EXECUTE FUNCTION mirror_records_deleted();

/* postgresql */ CREATE FUNCTION mirror_names_revised() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'distribution' THEN
        UPDATE distribution_mirror SET revision = revision
         WHERE distribution = NEW.id;
    ELSIF TG_TABLE_NAME = 'country' THEN
        UPDATE distribution_mirror SET revision = revision
         WHERE country = NEW.id;
    ELSIF TG_TABLE_NAME = 'continent' THEN
        UPDATE distribution_mirror SET revision = revision
         WHERE country IN (SELECT id FROM country WHERE continent = NEW.id);
    ELSIF TG_TABLE_NAME = 'site' THEN
        UPDATE distribution_mirror SET revision = revision
         WHERE site = NEW.id;
    ELSE
        UPDATE distribution_mirror SET revision = revision
         WHERE owner = NEW.id;
    END IF;
    RETURN NULL;
END
$$;

/* postgresql */ CREATE TRIGGER distribution_names_revised
    AFTER UPDATE OF name, display_name, title ON distribution
    FOR EACH ROW EXECUTE FUNCTION mirror_names_revised();

/* postgresql */ CREATE TRIGGER country_names_revised
    AFTER UPDATE OF name, iso3166code2, continent ON country
    FOR EACH ROW EXECUTE FUNCTION mirror_names_revised();

/* postgresql */ CREATE TRIGGER continent_names_revised
    AFTER UPDATE OF name, code ON continent
    FOR EACH ROW EXECUTE FUNCTION mirror_names_revised();

/* postgresql */ CREATE TRIGGER site_names_revised
    AFTER UPDATE OF name, display_name ON site
    FOR EACH ROW EXECUTE FUNCTION mirror_names_revised();

/* postgresql */ CREATE TRIGGER person_names_revised
    AFTER UPDATE OF name ON person
    FOR EACH ROW EXECUTE FUNCTION mirror_names_revised();

-- SQLite: the same, a trigger for each table and change (its triggers run
-- one statement list, and know no OLD row on insert nor NEW on delete).
-- A trigger's own UPDATE does not run triggers again.

/* sqlite */ CREATE TRIGGER distribution_mirror_revised
    AFTER UPDATE ON distribution_mirror
    WHEN NEW.revision = OLD.revision
    BEGIN UPDATE distribution_mirror SET revision = OLD.revision + 1
     WHERE id = NEW.id; END;

/* sqlite */ CREATE TRIGGER distribution_mirror_deleted
    AFTER DELETE ON distribution_mirror
    BEGIN UPDATE distribution
       SET mirror_revisions = mirror_revisions + OLD.revision + 1
     WHERE id = OLD.distribution; END;

/* sqlite */ CREATE TRIGGER mirror_distro_arch_series_inserted
    AFTER INSERT ON mirror_distro_arch_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_distro_arch_series_updated
    AFTER UPDATE ON mirror_distro_arch_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_distro_arch_series_deleted
    AFTER DELETE ON mirror_distro_arch_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_distro_series_source_inserted
    AFTER INSERT ON mirror_distro_series_source
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_distro_series_source_updated
    AFTER UPDATE ON mirror_distro_series_source
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_distro_series_source_deleted
    AFTER DELETE ON mirror_distro_series_source
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_rpm_repository_inserted
    AFTER INSERT ON mirror_rpm_repository
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_rpm_repository_updated
    AFTER UPDATE ON mirror_rpm_repository
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_rpm_repository_deleted
    AFTER DELETE ON mirror_rpm_repository
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_cd_image_distro_series_inserted
    AFTER INSERT ON mirror_cd_image_distro_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_cd_image_distro_series_updated
    AFTER UPDATE ON mirror_cd_image_distro_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_cd_image_distro_series_deleted
    AFTER DELETE ON mirror_cd_image_distro_series
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_freshness_check_inserted
    AFTER INSERT ON mirror_freshness_check
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_freshness_check_updated
    AFTER UPDATE ON mirror_freshness_check
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_freshness_check_deleted
    AFTER DELETE ON mirror_freshness_check
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_probe_record_inserted
    AFTER INSERT ON mirror_probe_record
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_probe_record_updated
    AFTER UPDATE ON mirror_probe_record
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror, NEW.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER mirror_probe_record_deleted
    AFTER DELETE ON mirror_probe_record
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE id IN (OLD.distribution_mirror); END;

/* sqlite */ CREATE TRIGGER distribution_names_revised
    AFTER UPDATE OF name, display_name, title ON distribution
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE distribution = NEW.id; END;

/* sqlite */ CREATE TRIGGER country_names_revised
    AFTER UPDATE OF name, iso3166code2, continent ON country
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE country = NEW.id; END;

/* sqlite */ CREATE TRIGGER continent_names_revised
    AFTER UPDATE OF name, code ON continent
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE country IN (SELECT id FROM country WHERE continent = NEW.id); END;

/* sqlite */ CREATE TRIGGER site_names_revised
    AFTER UPDATE OF name, display_name ON site
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE site = NEW.id; END;

/* sqlite */ CREATE TRIGGER person_names_revised
    AFTER UPDATE OF name ON person
    BEGIN UPDATE distribution_mirror SET revision = revision + 1
     WHERE owner = NEW.id; END;
