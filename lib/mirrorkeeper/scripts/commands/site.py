"""`site`: the organisations that run mirrors (model.site): list, show,
create and edit them, name their admins, and move mirrors between
them."""

import json

from zope.component import getUtility

from mirrorkeeper.errors import InvalidValueError
from mirrorkeeper.interfaces.site import ISiteSet
from mirrorkeeper.model.site import valid_web_url
from mirrorkeeper.scripts.commands.common import (
    add_actions, add_command, find_mirror, find_person, format_date,
    print_table)
from mirrorkeeper.validators import valid_text

SITE_HELP = """\
A site is an organisation that runs one or more mirrors (a university,
a hosting company), with a name, a web address and admins, people or
teams.  Every admin of a site may change its mirrors, as their owner
may.  A mirror registered without a site has one of its own."""


def register(subparsers, common):
    site = add_actions(subparsers, "site", "the organisations that run "
                       "mirrors, and their admins", SITE_HELP)
    parser = add_command(site, "list", "list the sites, by name",
                         "List every site by name: its display name, how "
                         "many mirrors it runs,\nits admins and its web "
                         "address.",
                         parents=[common], run=site_list)
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of objects")

    parser = add_command(site, "show",
                         "show a site: its web address, admins and mirrors",
                         parents=[common], run=site_show)
    parser.add_argument("name", metavar="NAME", help="the site's name")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON object")

    parser = add_command(site, "create", "register a site",
                         "Register a site NAME.  Mirrors join it with "
                         "`mirrorkeeper site move-mirror`.",
                         parents=[common], run=site_create)
    parser.add_argument("name", metavar="NAME",
                        help="the unique short name, e.g. 'example-uni'")
    parser.add_argument("--display-name", required=True,
                        help="the name people read, e.g. 'Example "
                             "University'")
    parser.add_argument("--web-url", metavar="URL",
                        help="the organisation's http:// or https:// page")
    parser.add_argument("--admin", metavar="PERSON", action="append",
                        default=[], help="an admin, a person or team "
                                         "(repeat for more)")

    parser = add_command(site, "rename", "give a site another short name",
                         "Give the site NAME the short name NEW_NAME: its "
                         "page moves to\n/+site/NEW_NAME.",
                         parents=[common], run=site_rename)
    parser.add_argument("name", metavar="NAME", help="the site's name")
    parser.add_argument("new_name", metavar="NEW_NAME",
                        help="its new short name")

    parser = add_command(site, "edit",
                         "change a site's display name or web address",
                         "Change the display name or the web address (or "
                         "both) of the site NAME.",
                         parents=[common], run=site_edit)
    parser.add_argument("name", metavar="NAME", help="the site's name")
    parser.add_argument("--display-name", help="the name people read")
    parser.add_argument("--web-url", metavar="URL",
                        help="its http:// or https:// page ('' for none)")

    for action, run, words in (
            ("add-admin", site_add_admin, "make a person or team an admin "
             "of a site"),
            ("remove-admin", site_remove_admin, "a person or team is no "
             "longer an admin of a site (a site keeps one at least)")):
        parser = add_command(site, action, words, parents=[common], run=run)
        parser.add_argument("name", metavar="NAME", help="the site's name")
        parser.add_argument("admin", metavar="PERSON",
                            help="the person or team, by name")

    parser = add_command(
        site, "move-mirror", "move mirrors to a site",
        "Move each MIRROR to the site NAME: from then on the admins of NAME "
        "may change\nit, and those of its old site no longer may (unless "
        "they own it).",
        parents=[common], run=site_move_mirror)
    parser.add_argument("name", metavar="NAME", help="the site's name")
    parser.add_argument("mirrors", metavar="MIRROR", nargs="+",
                        help="a mirror's name")


def find_site(name):
    return getUtility(ISiteSet)[name]


def _site_json(site):
    return {"name": site.name, "display_name": site.display_name,
            "web_url": site.web_url,
            "date_created": site.date_created.isoformat() + "Z",
            "admins": [{"name": admin.name,
                        "display_name": admin.display_name,
                        "team": admin.is_team} for admin in site.admins],
            "mirrors": [{"name": mirror.name,
                         "distribution": mirror.distribution.name}
                        for mirror in site.mirrors]}


def site_list(script):
    sites = list(getUtility(ISiteSet))
    if script.options.json:
        print(json.dumps([_site_json(site) for site in sites], indent=2))
        return
    if not sites:
        print("No site is registered.")
        return
    print_table(("NAME", "DISPLAY NAME", "MIRRORS", "ADMINS", "WEB ADDRESS"),
                [(site.name, site.display_name, str(len(site.mirrors)),
                  ", ".join(admin.name for admin in site.admins) or "-",
                  site.web_url or "-") for site in sites])


def site_show(script):
    site = find_site(script.options.name)
    if script.options.json:
        print(json.dumps(_site_json(site), indent=2))
        return
    print("Site %s (%s)" % (site.name, site.display_name))
    print("  %-20s %s" % ("web address:", site.web_url or "-"))
    print("  %-20s %s" % ("date created:", format_date(site.date_created)))
    print("Admins:")
    for admin in site.admins:
        print("  %s (%s)%s" % (admin.name, admin.display_name,
                               ", a team" if admin.is_team else ""))
    if not site.admins:
        print("  (none: only the site admins may change its mirrors)")
    print("Mirrors:")
    for mirror in site.mirrors:
        print("  %s (%s), owned by %s" % (
            mirror.name, mirror.distribution.name, mirror.owner.name))
    if not site.mirrors:
        print("  (none)")


def site_create(script):
    options = script.options
    admins = [find_person(name) for name in options.admin]
    site = getUtility(ISiteSet).new(options.name, options.display_name,
                                    admins, web_url=options.web_url)
    print("Registered the site %s (%s) with %d admin(s)."
          % (site.name, site.display_name, len(admins)))


def site_rename(script):
    site = find_site(script.options.name)
    old = site.name
    site.rename(script.options.new_name)
    print("Renamed the site %s to %s." % (old, site.name))


def site_edit(script):
    options = script.options
    site = find_site(options.name)
    if options.display_name is None and options.web_url is None:
        raise InvalidValueError("give --display-name or --web-url (or "
                                "both): nothing to change")
    if options.display_name is not None:
        display_name = valid_text(options.display_name, "display_name")
        if display_name is None:
            raise InvalidValueError("give the site a display name",
                                    "display_name")
        site.display_name = display_name
    if options.web_url is not None:
        site.web_url = valid_web_url(options.web_url)
    print("Site %s: %s, %s." % (site.name, site.display_name,
                                site.web_url or "no web address"))


def site_add_admin(script):
    site = find_site(script.options.name)
    admin = find_person(script.options.admin)
    site.addAdmin(admin)
    print("%s is an admin of the site %s." % (admin.name, site.name))


def site_remove_admin(script):
    site = find_site(script.options.name)
    admin = find_person(script.options.admin)
    site.removeAdmin(admin)
    print("%s is no longer an admin of the site %s." % (admin.name,
                                                        site.name))


def site_move_mirror(script):
    site = find_site(script.options.name)
    # Every name is looked up before anything moves.
    mirrors = [find_mirror(name) for name in script.options.mirrors]
    for mirror in mirrors:
        old = mirror.site
        mirror.site = site
        print("Moved %s to the site %s%s." % (
            mirror.name, site.name,
            " from %s" % (old.name,) if old is not None and old is not site
            else ""))
        if old is not None and old is not site and not old.mirrors:
            print("The site %s runs no mirror now." % (old.name,))
