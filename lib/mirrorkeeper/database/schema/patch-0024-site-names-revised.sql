-- The read model (model/mirrorstate.py) says which site runs each mirror,
-- by its name and display name: the listings show a site's mirrors
-- together, under the site's name.  A change of a site's names is then a
-- change of what the read model says of each of its mirrors: it touches
-- their rows, so that each mirror's own trigger (patch 0025, which counts
-- every change to a mirror's row) raises the mirror's revision and the
-- web's cached answers are made again (web/answers.py).  Moving a mirror
-- to another site changes its row already.

/* postgresql */ CREATE FUNCTION site_names_revised() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE distribution_mirror SET site = site WHERE site = NEW.id;
    RETURN NULL;
END
$$;

/* postgresql */ CREATE TRIGGER site_names_revised
    AFTER UPDATE OF name, display_name ON site
    FOR EACH ROW EXECUTE FUNCTION site_names_revised();

/* sqlite */ CREATE TRIGGER site_names_revised
    AFTER UPDATE OF name, display_name ON site
    BEGIN UPDATE distribution_mirror SET site = site
     WHERE site = NEW.id; END;
