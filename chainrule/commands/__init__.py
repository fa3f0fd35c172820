"""One module per ``chainrule`` command, each with ``add_<command>_parser(sub)`` and ``cmd_<command>(args)``."""
