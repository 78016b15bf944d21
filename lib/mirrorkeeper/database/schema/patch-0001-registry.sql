-- The registry: people, places, distributions and their mirrors.
--
-- Patches are written once for both backends in PostgreSQL's dialect; the
-- migration runner turns "SERIAL PRIMARY KEY" into SQLite's
-- "INTEGER PRIMARY KEY AUTOINCREMENT" and changes nothing else.  Times are
-- UTC, stored without a zone.  A statement ends with ";" at the end of a line.

CREATE TABLE continent (
    id SERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE country (
    id SERIAL PRIMARY KEY,
    iso3166code2 TEXT NOT NULL UNIQUE,
    iso3166code3 TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    continent INTEGER NOT NULL REFERENCES continent(id)
);

CREATE TABLE person (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    is_team BOOLEAN NOT NULL DEFAULT FALSE,
    password_hash TEXT,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL
);

CREATE TABLE email_address (
    id SERIAL PRIMARY KEY,
    person INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    is_preferred BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX email_address__person__idx ON email_address(person);

CREATE TABLE team_membership (
    id SERIAL PRIMARY KEY,
    team INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    member INTEGER NOT NULL REFERENCES person(id) ON DELETE CASCADE,
    UNIQUE (team, member)
);

CREATE TABLE distribution (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    title TEXT NOT NULL,
    owner INTEGER NOT NULL REFERENCES person(id),
    mirror_admin INTEGER NOT NULL REFERENCES person(id),
    supports_mirrors BOOLEAN NOT NULL DEFAULT TRUE,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL
);

CREATE TABLE component (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE distro_series (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    status INTEGER NOT NULL,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    UNIQUE (distribution, name)
);

CREATE TABLE distro_series_component (
    id SERIAL PRIMARY KEY,
    distro_series INTEGER NOT NULL REFERENCES distro_series(id)
        ON DELETE CASCADE,
    component INTEGER NOT NULL REFERENCES component(id),
    UNIQUE (distro_series, component)
);

CREATE TABLE distro_arch_series (
    id SERIAL PRIMARY KEY,
    distro_series INTEGER NOT NULL REFERENCES distro_series(id),
    architecture_tag TEXT NOT NULL,
    official BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (distro_series, architecture_tag)
);

-- Publishing history: what the master archive published, where and when.
CREATE TABLE source_package_release (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL
);
CREATE INDEX source_package_release__name__idx
    ON source_package_release(name, version);

CREATE TABLE source_package_file (
    id SERIAL PRIMARY KEY,
    source_package_release INTEGER NOT NULL
        REFERENCES source_package_release(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    filetype INTEGER NOT NULL,
    path TEXT NOT NULL,
    size BIGINT,
    sha256 TEXT
);
CREATE INDEX source_package_file__release__idx
    ON source_package_file(source_package_release);

CREATE TABLE source_package_publishing_history (
    id SERIAL PRIMARY KEY,
    source_package_release INTEGER NOT NULL
        REFERENCES source_package_release(id),
    distro_series INTEGER NOT NULL REFERENCES distro_series(id),
    component INTEGER NOT NULL REFERENCES component(id),
    pocket INTEGER NOT NULL,
    status INTEGER NOT NULL,
    date_published TIMESTAMP WITHOUT TIME ZONE,
    date_removed TIMESTAMP WITHOUT TIME ZONE
);
CREATE INDEX spph__freshness__idx ON source_package_publishing_history(
    distro_series, component, pocket, status, date_published);

CREATE TABLE binary_package_release (
    id SERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    source_name TEXT NOT NULL
);
CREATE INDEX binary_package_release__name__idx
    ON binary_package_release(name, version);

CREATE TABLE binary_package_file (
    id SERIAL PRIMARY KEY,
    binary_package_release INTEGER NOT NULL
        REFERENCES binary_package_release(id) ON DELETE CASCADE,
    filename TEXT NOT NULL,
    filetype INTEGER NOT NULL,
    path TEXT NOT NULL,
    size BIGINT,
    sha256 TEXT
);
CREATE INDEX binary_package_file__release__idx
    ON binary_package_file(binary_package_release);

CREATE TABLE binary_package_publishing_history (
    id SERIAL PRIMARY KEY,
    binary_package_release INTEGER NOT NULL
        REFERENCES binary_package_release(id),
    distro_arch_series INTEGER NOT NULL REFERENCES distro_arch_series(id),
    component INTEGER NOT NULL REFERENCES component(id),
    pocket INTEGER NOT NULL,
    status INTEGER NOT NULL,
    date_published TIMESTAMP WITHOUT TIME ZONE,
    date_removed TIMESTAMP WITHOUT TIME ZONE
);
CREATE INDEX bpph__freshness__idx ON binary_package_publishing_history(
    distro_arch_series, component, pocket, status, date_published);

-- Mirrors and what they carry.
CREATE TABLE distribution_mirror (
    id SERIAL PRIMARY KEY,
    distribution INTEGER NOT NULL REFERENCES distribution(id),
    owner INTEGER NOT NULL REFERENCES person(id),
    reviewer INTEGER REFERENCES person(id),
    name TEXT NOT NULL UNIQUE,
    display_name TEXT,
    description TEXT,
    http_base_url TEXT UNIQUE,
    https_base_url TEXT UNIQUE,
    ftp_base_url TEXT UNIQUE,
    rsync_base_url TEXT UNIQUE,
    enabled BOOLEAN NOT NULL DEFAULT FALSE,
    speed INTEGER NOT NULL,
    country INTEGER NOT NULL REFERENCES country(id),
    content INTEGER NOT NULL,
    pulse_type INTEGER NOT NULL,
    pulse_source TEXT,
    official_candidate BOOLEAN NOT NULL DEFAULT FALSE,
    status INTEGER NOT NULL,
    whiteboard TEXT,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_reviewed TIMESTAMP WITHOUT TIME ZONE,
    bandwidth_mbps BIGINT,
    private BOOLEAN NOT NULL DEFAULT FALSE,
    internet2 BOOLEAN NOT NULL DEFAULT FALSE,
    asn BIGINT,
    asn_clients BOOLEAN NOT NULL DEFAULT FALSE,
    owner_paused BOOLEAN NOT NULL DEFAULT FALSE,
    -- Set when the owner was told the mirror is disabled, cleared when it
    -- is enabled again: a mirror that never worked is reported once.
    date_disabled_notified TIMESTAMP WITHOUT TIME ZONE,
    -- What the prober's name resolution found, NULL until probed: mirror
    -- lists give IPv6 clients only mirrors reachable over IPv6.
    has_ipv4 BOOLEAN,
    has_ipv6 BOOLEAN,
    CHECK (http_base_url IS NOT NULL OR https_base_url IS NOT NULL
           OR ftp_base_url IS NOT NULL)
);
CREATE INDEX distribution_mirror__distribution__idx
    ON distribution_mirror(distribution, enabled, content);
CREATE INDEX distribution_mirror__owner__idx ON distribution_mirror(owner);

CREATE TABLE mirror_netblock (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    netblock TEXT NOT NULL,
    UNIQUE (distribution_mirror, netblock)
);

CREATE TABLE mirror_acl_address (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    address TEXT NOT NULL,
    UNIQUE (distribution_mirror, address)
);

CREATE TABLE mirror_country_allowed (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    country INTEGER NOT NULL REFERENCES country(id),
    UNIQUE (distribution_mirror, country)
);

CREATE TABLE mirror_distro_arch_series (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    distro_arch_series INTEGER NOT NULL REFERENCES distro_arch_series(id),
    component INTEGER NOT NULL REFERENCES component(id),
    pocket INTEGER NOT NULL,
    freshness INTEGER NOT NULL,
    UNIQUE (distribution_mirror, distro_arch_series, component, pocket)
);

CREATE TABLE mirror_distro_series_source (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    distro_series INTEGER NOT NULL REFERENCES distro_series(id),
    component INTEGER NOT NULL REFERENCES component(id),
    pocket INTEGER NOT NULL,
    freshness INTEGER NOT NULL,
    UNIQUE (distribution_mirror, distro_series, component, pocket)
);

CREATE TABLE mirror_cd_image_distro_series (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    distro_series INTEGER NOT NULL REFERENCES distro_series(id),
    flavour TEXT NOT NULL,
    UNIQUE (distribution_mirror, distro_series, flavour)
);

CREATE TABLE mirror_probe_record (
    id SERIAL PRIMARY KEY,
    distribution_mirror INTEGER NOT NULL REFERENCES distribution_mirror(id)
        ON DELETE CASCADE,
    log TEXT NOT NULL,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL
);
CREATE INDEX mirror_probe_record__mirror__idx
    ON mirror_probe_record(distribution_mirror, date_created);

-- Mail is written here in the transaction that decides to send it, and
-- delivered after that transaction commits: a rolled-back change sends no
-- mail, and a committed one loses none if the SMTP server is down.
CREATE TABLE mail_outbox (
    id SERIAL PRIMARY KEY,
    message TEXT NOT NULL,
    date_created TIMESTAMP WITHOUT TIME ZONE NOT NULL,
    date_sent TIMESTAMP WITHOUT TIME ZONE,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
