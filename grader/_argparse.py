"""The words of argparse itself that a student meets, marked for the grader's catalogue.

argparse looks its texts up through its module global `_`, which grader/i18n.py points at
the grader's catalogue; these are the msgids argparse uses (Python 3.10-3.13), listed
here only so that extraction finds them. Never imported.
"""

from .i18n import N_, ngettext

N_("usage: ")
N_("positional arguments")
N_("options")
N_("optional arguments")  # Python 3.9 and older said this instead of "options"
N_("show this help message and exit")
N_("%(prog)s: error: %(message)s\n")
N_("argument %(argument_name)s: %(message)s")
N_("the following arguments are required: %s")
N_("unrecognized arguments: %s")
N_("invalid choice: %(value)r (choose from %(choices)s)")
N_("invalid %(type)s value: %(value)r")
N_("expected one argument")
N_("expected at most one argument")
N_("expected at least one argument")
N_("ambiguous option: %(option)s could match %(matches)s")
N_("not allowed with argument %s")
N_("ignored explicit argument %r")
ngettext("expected %s argument", "expected %s arguments", 2)
