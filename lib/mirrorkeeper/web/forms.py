"""The mirror forms: which fields each has, and turning what a person
typed into the values the model takes.

Reading a form never changes anything; it raises FormError naming the
field at fault (the field every error of mirrorkeeper.errors carries,
never read from its message), and the page shows the form again with the
message.  A mirror's values, registered or edited, are checked by
validators.valid_mirror_fields, as the command line's are; the review's
whiteboard by validators.valid_text.  The limits of validators.TEXT_LIMITS
and MIRROR_NUMBERS are stated beside each field.
"""

from mirrorkeeper.enums import (
    MirrorContent, MirrorPulseType, MirrorSpeed, MirrorStatus)
from mirrorkeeper.errors import MirrorKeeperError
from mirrorkeeper.model.country import CountrySet
from mirrorkeeper.validators import (
    MAX_URL_LENGTH, MIRROR_NUMBERS, TEXT_LIMITS, valid_mirror_fields,
    valid_text)

# (field, label, kind, help): kind is text, url, textarea, number,
# checkbox, or the name of a choice list in choices().
REGISTER_FIELDS = [
    ("name", "Name", "text",
     "A short unique name: lower-case letters, digits, '.', '-' or '+'."),
    ("display_name", "Display name", "text", "The name people read."),
    ("description", "Description", "textarea", ""),
    ("https_base_url", "HTTPS URL", "url", "e.g. https://mirror.example.org/ubuntu/"),
    ("http_base_url", "HTTP URL", "url", ""),
    ("ftp_base_url", "FTP URL", "url", ""),
    ("rsync_base_url", "Rsync URL", "url", ""),
    ("country", "Country", "country", ""),
    ("speed", "Speed", "speed", "The bandwidth of the mirror's uplink."),
    ("bandwidth_mbps", "Bandwidth (Mbps)", "number",
     "Optional: its share of the traffic; default the speed's figure."),
    ("asn", "AS number", "number",
     "Optional: the autonomous system its addresses are in."),
    ("content", "Content", "content", ""),
    ("pulse_type", "Sync", "pulse_type",
     "Push: the master tells the mirror to sync.  Pull: it syncs on its "
     "own schedule."),
    ("pulse_source", "Syncs from", "text", "Optional: the rsync source."),
    ("official_candidate", "Apply to be an official mirror", "checkbox", ""),
    ("picks_up_new_series", "Carry new releases at once", "checkbox",
     "It syncs a new series as soon as the master has one, and is "
     "probed for it from then on."),
]

# What an owner may change after registering: not the name (it is in
# every URL) nor the content (the prober's records depend on it).
EDIT_FIELDS = [field for field in REGISTER_FIELDS
               if field[0] not in ("name", "content")]

REVIEW_FIELDS = [
    ("status", "Status", "status", ""),
    ("whiteboard", "Whiteboard", "textarea",
     "The reviewers' notes; the owner reads them too."),
]


class FormError(MirrorKeeperError):
    """What a person typed cannot be taken; `field` is where, or None."""

    @classmethod
    def from_error(cls, error):
        """The FormError of a MirrorKeeperError: its message, its field."""
        return cls(str(error), getattr(error, "field", None))


def number_range(field):
    """(lowest, highest) whole number the number `field` takes."""
    return MIRROR_NUMBERS[field][1:3]


def limit_of(field, kind):
    """The most characters `field` of `kind` takes, or None."""
    if kind == "url":
        return MAX_URL_LENGTH
    if kind in ("text", "textarea"):
        return TEXT_LIMITS.get(field)
    return None


def choices(kind, countries=()):
    """[(value, label)] of a choice field."""
    if kind == "country":
        return [("", "Choose a country")] + list(countries)
    enum_class = {"speed": MirrorSpeed, "content": MirrorContent,
                  "pulse_type": MirrorPulseType,
                  "status": MirrorStatus}[kind]
    return [(item.name, item.title) for item in enum_class]


def _text(values, field, kind="text"):
    try:
        return valid_text(values.get(field), field, limit_of(field, kind),
                          multiline=kind == "textarea")
    except MirrorKeeperError as error:
        raise FormError.from_error(error) from None


def _choice(values, field, enum_class):
    value = values.get(field) or ""
    try:
        return enum_class[value]
    except KeyError:
        raise FormError("choose a %s" % (field.replace("_", " "),),
                        field) from None


def read_mirror_form(store, values, editing=False, policy=None):
    """{keyword: value} for newMirror (or, `editing`, for the mirror's
    attributes) from the form's `values` ({field: text}): the choices
    read here, the rest checked by validators.valid_mirror_fields with
    `policy` (see there)."""
    fields = EDIT_FIELDS if editing else REGISTER_FIELDS
    result = {}
    for field, label, kind, _ in fields:
        if kind in ("text", "textarea", "url", "number"):
            result[field] = values.get(field)
        elif kind == "checkbox":
            result[field] = bool(values.get(field))
        elif kind == "country":
            code = _text(values, field)
            try:
                result[field] = CountrySet(store)[code or ""]
            except LookupError:
                raise FormError("choose a country", field) from None
        else:
            result[field] = _choice(values, field, {
                "speed": MirrorSpeed, "content": MirrorContent,
                "pulse_type": MirrorPulseType}[kind])
    try:
        return valid_mirror_fields(result, policy)
    except MirrorKeeperError as error:
        raise FormError.from_error(error) from None


def read_review_form(values):
    """(MirrorStatus, whiteboard text or None) from a review form."""
    status = _choice(values, "status", MirrorStatus)
    return status, _text(values, "whiteboard", "textarea")


def mirror_values(mirror):
    """A mirror's current values, as its edit form shows them."""
    return {
        "display_name": mirror.display_name or "",
        "description": mirror.description or "",
        "https_base_url": mirror.https_base_url or "",
        "http_base_url": mirror.http_base_url or "",
        "ftp_base_url": mirror.ftp_base_url or "",
        "rsync_base_url": mirror.rsync_base_url or "",
        "country": mirror.country.iso3166code2,
        "speed": mirror.speed.name,
        "bandwidth_mbps": str(mirror._bandwidth_mbps or ""),
        "asn": str(mirror.asn or ""),
        "pulse_type": mirror.pulse_type.name,
        "pulse_source": mirror.pulse_source or "",
        "official_candidate": "on" if mirror.official_candidate else "",
        "picks_up_new_series": "on" if mirror.picks_up_new_series else "",
        "status": mirror.status.name,
        "whiteboard": mirror.whiteboard or "",
    }
