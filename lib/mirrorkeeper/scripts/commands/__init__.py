"""The subcommands of the `mirrorkeeper` command line, one module per
group; each module's register(subparsers, common) adds its parsers, each
with a `run` default: the function that does the work, given the script."""
