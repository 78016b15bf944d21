"""Where mirrors are and where their users are."""

from zope.interface import Attribute, Interface


class IContinent(Interface):
    code = Attribute("Two letters: AF, AN, AS, EU, NA, OC, SA.")
    name = Attribute("e.g. 'South America'.")
    countries = Attribute("The countries of this continent, by name.")


class ICountry(Interface):
    iso3166code2 = Attribute("ISO 3166-1 alpha-2 code, e.g. 'BR'.")
    iso3166code3 = Attribute("ISO 3166-1 alpha-3 code, e.g. 'BRA'.")
    name = Attribute("The country's name, e.g. 'Brazil'.")
    continent = Attribute("The IContinent it is counted in.")


class ICountrySet(Interface):
    """Every country of ISO 3166-1, loaded by the schema."""

    def __getitem__(code):
        """The country with that alpha-2 code (case-insensitive), or
        NotFoundError naming the code."""

    def getByName(name):
        """The country with that name, or None."""

    def lookup(text):
        """The country named by an alpha-2 or alpha-3 code or a name, or
        NotFoundError: what the command line and the web forms take."""

    def __iter__():
        """Every country, ordered by name."""


class IContinentSet(Interface):
    def __getitem__(code):
        """The continent with that code, or NotFoundError."""

    def __iter__():
        """Every continent, ordered by name."""
