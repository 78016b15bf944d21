"""The world map of a listing's mirrors: SVG drawn on the server from the
country outlines kept in world_outlines (Natural Earth's, public domain),
with no tiles and no script.  Each country is shaded by how many mirrors
it has, and one that has any links to its section of the listing and is
titled (a tooltip) with its name and count; a legend says the shades.
"""

from mirrorkeeper.web.layout import plural, svg
from mirrorkeeper.web.world_outlines import HEIGHT, OUTLINES, WIDTH

NO_MIRROR = "#e6e6e6"
# (fewest mirrors, shade): light to dark blue.
SHADES = ((1, "#c6dbef"), (2, "#9ecae1"), (5, "#6baed6"), (10, "#3182bd"),
          (25, "#08519c"))
LEGEND_HEIGHT = 28


def shade(count):
    """The fill of a country with `count` mirrors."""
    fill = NO_MIRROR
    for fewest, colour in SHADES:
        if count >= fewest:
            fill = colour
    return fill


def _legend(y):
    items = [(NO_MIRROR, "none")] + [
        (colour, "%d+" % fewest if index == len(SHADES) - 1 else (
            "%d" % fewest if SHADES[index + 1][0] - 1 == fewest
            else "%d-%d" % (fewest, SHADES[index + 1][0] - 1)))
        for index, (fewest, colour) in enumerate(SHADES)]
    children = [svg("text", "Mirrors:", x="0", y=str(y + 15), **{
        "font-size": "14", "fill": "#1d1d1d"})]
    for index, (colour, label) in enumerate(items):
        x = 70 + index * 80
        children += [
            svg("rect", x=str(x), y=str(y + 3), width="16", height="16",
                fill=colour, stroke="#9e9e9e", **{"stroke-width": "0.5"}),
            svg("text", label, x=str(x + 22), y=str(y + 16), **{
                "font-size": "14", "fill": "#1d1d1d"})]
    return svg("g", *children, **{"class": "legend"})


def world_map(countries, href):
    """The SVG of the mirrors' countries: `countries` is [(code, name,
    mirrors)], href(code) the address of a country's section."""
    by_code = {code: (name, count) for code, name, count in countries}
    shapes = []
    for code, outline in OUTLINES.items():
        name, count = by_code.get(code, (None, 0))
        shape = svg("path", d=outline, fill=shade(count), stroke="#ffffff",
                    **{"stroke-width": "0.4"})
        if count:
            shape.children.append(svg("title", "%s: %s" % (
                name, plural(count, "mirror"))))
            shape = svg("a", shape, href=href(code))
        shapes.append(shape)
    return svg("svg", svg("title", "Mirrors by country"), *shapes,
               _legend(HEIGHT), xmlns="http://www.w3.org/2000/svg",
               viewBox="0 0 %d %d" % (WIDTH, HEIGHT + LEGEND_HEIGHT),
               width=str(WIDTH), height=str(HEIGHT + LEGEND_HEIGHT),
               role="img", class_="chart map")
