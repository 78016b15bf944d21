"""Countries and continents (reference data loaded by the schema)."""

from storm.locals import Int, Reference, Storm, Unicode
from zope.interface import implementer

from mirrorkeeper.errors import NotFoundError
from mirrorkeeper.interfaces.country import (
    IContinent, IContinentSet, ICountry, ICountrySet)
from mirrorkeeper.model.base import StoreBoundSet, store_of


@implementer(IContinent)
class Continent(Storm):
    __storm_table__ = "continent"

    id = Int(primary=True)
    code = Unicode(allow_none=False)
    name = Unicode(allow_none=False)

    @property
    def countries(self):
        return list(store_of(self).find(
            Country, Country.continent_id == self.id).order_by(Country.name))

    def __repr__(self):
        return "<Continent %s>" % (self.code,)


@implementer(ICountry)
class Country(Storm):
    __storm_table__ = "country"

    id = Int(primary=True)
    iso3166code2 = Unicode(allow_none=False)
    iso3166code3 = Unicode(allow_none=False)
    name = Unicode(allow_none=False)
    continent_id = Int(name="continent", allow_none=False)
    continent = Reference(continent_id, Continent.id)

    def __repr__(self):
        return "<Country %s>" % (self.iso3166code2,)


@implementer(ICountrySet)
class CountrySet(StoreBoundSet):

    def __getitem__(self, code):
        country = self.store.find(
            Country, Country.iso3166code2 == code.upper()).one()
        if country is None:
            raise NotFoundError("unknown country code %r" % (code,))
        return country

    def getByName(self, name):
        return self.store.find(Country, Country.name == name).one()

    def lookup(self, text):
        text = (text or "").strip()
        found = None
        if len(text) == 2:
            found = self.store.find(
                Country, Country.iso3166code2 == text.upper()).one()
        elif len(text) == 3:
            found = self.store.find(
                Country, Country.iso3166code3 == text.upper()).one()
        if found is None:
            for country in self.store.find(Country):
                if country.name.lower() == text.lower():
                    found = country
                    break
        if found is None:
            raise NotFoundError(
                "unknown country %r: give an ISO 3166 code such as 'BR' or "
                "a name such as 'Brazil'" % (text,))
        return found

    def __iter__(self):
        return iter(self.store.find(Country).order_by(Country.name))


@implementer(IContinentSet)
class ContinentSet(StoreBoundSet):

    def __getitem__(self, code):
        continent = self.store.find(
            Continent, Continent.code == code.upper()).one()
        if continent is None:
            raise NotFoundError("unknown continent code %r" % (code,))
        return continent

    def __iter__(self):
        return iter(self.store.find(Continent).order_by(Continent.name))
