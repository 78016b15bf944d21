"""What every model module shares: the enum column and store helpers."""

from storm.properties import SimpleProperty
from storm.store import Store
from storm.variables import Variable

from mirrorkeeper.enums import DBEnum


class DBEnumVariable(Variable):
    """Holds a DBEnum item; the database sees its integer."""

    __slots__ = ("_enum",)

    def __init__(self, *args, **kwargs):
        self._enum = kwargs.pop("enum")
        Variable.__init__(self, *args, **kwargs)

    def parse_set(self, value, from_db):
        if from_db:
            return self._enum(value)
        if not isinstance(value, self._enum):
            raise TypeError("expected a %s, got %r"
                            % (self._enum.__name__, value))
        return value

    def parse_get(self, value, to_db):
        return value.value if to_db else value


class EnumCol(SimpleProperty):
    """A column holding items of one DBEnum class."""

    variable_class = DBEnumVariable

    def __init__(self, name=None, enum=None, **kwargs):
        assert enum is not None and issubclass(enum, DBEnum)
        SimpleProperty.__init__(self, name, enum=enum, **kwargs)


def store_of(obj):
    """The store `obj` lives in; an object outside any store is a bug."""
    store = Store.of(obj)
    if store is None:
        raise AssertionError("%r is not in a store" % (obj,))
    return store


class StoreBoundSet:
    """A set utility: the queries over one class, on the store it is
    given."""

    def __init__(self, store):
        self.store = store
