"""Countries and continents: the ISO 3166 reference data the schema loads,
and how they are looked up."""

import pytest
from zope.component import getUtility

from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.interfaces.country import ICountrySet, IContinentSet
from tests.rollback_stores import (  # noqa: F401
    rollback_store, shared_empty_store)

CONTINENTS = {"AF": "Africa", "AN": "Antarctica", "AS": "Asia",
              "EU": "Europe", "NA": "North America", "OC": "Oceania",
              "SA": "South America"}


@pytest.fixture
def countries(rollback_store):
    return getUtility(ICountrySet)


@pytest.fixture
def continents(rollback_store):
    return getUtility(IContinentSet)


def test_every_country_with_a_continent(countries):
    """The schema holds the 249 countries of ISO 3166-1, each with one of
    the seven continents."""
    every = list(countries)
    assert len(every) == 249
    for country in every:
        assert country.continent is not None, country
        assert country.continent.code in CONTINENTS


def test_codes_and_names_unique_and_well_formed(countries):
    """Alpha-2 and alpha-3 codes are upper-case letters of the right length
    and, like names, each belongs to one country."""
    every = list(countries)
    code2 = [c.iso3166code2 for c in every]
    code3 = [c.iso3166code3 for c in every]
    names = [c.name for c in every]
    assert all(len(c) == 2 and c.isalpha() and c.isupper() for c in code2)
    assert all(len(c) == 3 and c.isalpha() and c.isupper() for c in code3)
    assert len(set(code2)) == len(set(code3)) == len(set(names)) == 249


def test_iteration_ordered_by_name(countries):
    """Countries are listed by name."""
    names = [country.name for country in countries]
    assert names == sorted(names)


KNOWN = [
    ("BR", "BRA", "Brazil", "SA"),
    ("GB", "GBR", "United Kingdom", "EU"),
    ("US", "USA", "United States", "NA"),
    ("AQ", "ATA", "Antarctica", "AN"),
    ("AU", "AUS", "Australia", "OC"),
    ("ZA", "ZAF", "South Africa", "AF"),
    ("IO", "IOT", "British Indian Ocean Territory", "AS"),
]


def test_known_countries(countries):
    """Well-known countries carry their codes, name and continent."""
    for code, code3, name, continent in KNOWN:
        country = countries[code]
        assert (country.iso3166code2, country.iso3166code3, country.name,
                country.continent.code) == (code, code3, name, continent)


def test_getitem_is_case_insensitive(countries):
    """Indexing by alpha-2 code ignores case."""
    assert countries["br"] == countries["BR"]
    assert countries["Br"].name == "Brazil"


def test_getitem_unknown(countries):
    """An unknown alpha-2 code is a NotFoundError naming it."""
    for code in ["XX", "BRA", "", "Brazil"]:
        with pytest.raises(NotFoundError) as caught:
            countries[code]
        assert str(caught.value) == "unknown country code %r" % (code,)
        assert isinstance(caught.value, LookupError)


def test_get_by_name(countries):
    """getByName finds a country by its exact name, else None."""
    assert countries.getByName("Brazil").iso3166code2 == "BR"
    assert countries.getByName("Atlantis") is None


def test_lookup_by_code2_code3_or_name(countries):
    """lookup takes an alpha-2 code, an alpha-3 code or a name, in any case
    and with surrounding space."""
    for text in ["BR", "br", "BRA", "bra", "Brazil", "brazil", "BRAZIL",
                 "  Brazil "]:
        assert countries.lookup(text).iso3166code2 == "BR", text


def test_lookup_names_with_accents_and_punctuation(countries):
    """Names with accents, apostrophes and commas are found in any case."""
    assert countries.lookup("c\u00f4te d'ivoire").iso3166code2 == "CI"
    assert countries.lookup("R\u00c9UNION").iso3166code2 == "RE"
    assert countries.lookup(
        "Korea, Republic of").iso3166code2 == "KR"


def test_lookup_unknown(countries):
    """Anything that is no code or name is a NotFoundError naming the text
    and saying what to give."""
    for text in ["XX", "XXX", "Atlantis", "", None, "Bra zil"]:
        with pytest.raises(NotFoundError) as caught:
            countries.lookup(text)
        message = str(caught.value)
        assert message.startswith(
            "unknown country %r: give an ISO 3166 code"
            % ((text or "").strip(),))
        assert "'Brazil'" in message


def test_continents(continents):
    """There are seven continents, listed by name, found by code in any
    case."""
    assert [(c.code, c.name) for c in continents] == sorted(
        CONTINENTS.items(), key=lambda item: item[1])
    assert continents["sa"].name == "South America"
    with pytest.raises(NotFoundError, match="unknown continent code 'XX'"):
        continents["XX"]


def test_continent_countries(countries, continents):
    """Each continent lists its own countries by name, and together they
    list every country once."""
    seen = []
    for continent in continents:
        names = [country.name for country in continent.countries]
        assert names == sorted(names)
        assert all(country.continent == continent
                   for country in continent.countries)
        seen.extend(country.iso3166code2 for country in continent.countries)
    assert sorted(seen) == sorted(c.iso3166code2 for c in countries)
    assert "BR" in [c.iso3166code2 for c in continents["SA"].countries]
