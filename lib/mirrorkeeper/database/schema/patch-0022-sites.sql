-- Sites, as MirrorManager models them: an organisation (a name, a web
-- address) that runs one or more mirrors, and its admins, people or
-- teams, many to many.  Every admin of a site may change its mirrors.

CREATE TABLE site (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    web_url TEXT,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL
);

CREATE TABLE site_admin (
    id SERIAL PRIMARY KEY,
    site INTEGER NOT NULL REFERENCES site(id) ON DELETE CASCADE,
    person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    UNIQUE (site, person)
);
CREATE INDEX site_admin__person__idx ON site_admin(person);

-- The site a mirror belongs to.  NULL for no mirror once this patch is
-- applied (the model gives each new mirror one), but a column added to a
-- table with rows cannot say NOT NULL on SQLite.
ALTER TABLE distribution_mirror
    ADD COLUMN site INTEGER REFERENCES site(id);
CREATE INDEX distribution_mirror__site__idx ON distribution_mirror(site);

-- Each mirror registered before sites existed becomes a site of its own,
-- of the mirror's name (mirror names are unique), whose one admin is the
-- mirror's owner: it is owned as it was.
INSERT INTO site (name, display_name, date_created)
    SELECT name, COALESCE(display_name, name), date_created
      FROM distribution_mirror;
UPDATE distribution_mirror
   SET site = (SELECT site.id FROM site
                WHERE site.name = distribution_mirror.name);
INSERT INTO site_admin (site, person)
    SELECT site, owner FROM distribution_mirror;
