"""Command-line checks the parser does not make: an option given twice is refused, not
resolved silently by keeping the last value (``--start A --start B``, ``--short --no-short``)."""

from __future__ import annotations

from typing import Any


def _command(root: Any, argv: list[str]) -> tuple[Any, list[str]]:
    """The (sub)command ``argv`` names under ``root`` and the arguments left for it."""
    cmd, i = root, 0
    while hasattr(cmd, "commands") and i < len(argv) and argv[i] in cmd.commands:
        cmd, i = cmd.commands[argv[i]], i + 1
    return cmd, argv[i:]


def repeated_option(root: Any, argv: list[str]) -> str | None:
    """A message if an option that takes one value (or an on/off flag) is given twice."""
    cmd, args = _command(root, argv)
    if hasattr(cmd, "commands"):
        return None
    names: dict[str, Any] = {}
    for p in cmd.params:
        if type(p).__name__.endswith("Argument"):
            continue
        for opt in (*p.opts, *getattr(p, "secondary_opts", ())):
            names[opt] = p
    seen: dict[str, str] = {}
    j = 0
    while j < len(args):
        token = args[j]
        if token == "--":
            break
        key = token.split("=", 1)[0] if token.startswith("--") else token
        p = names.get(key)
        if p is None:
            j += 1
            continue
        if not p.multiple and p.name != "help":
            if p.name in seen:
                first = seen[p.name]
                if (first in p.opts) != (key in p.opts):  # --short and --no-short
                    return f"{first} and {key} are both given; give one of them"
                long = max((first, key), key=len)
                return f"{long} is given twice{'' if first == key else f' (as {first} and {key})'}; give it once"
            seen[p.name] = key
        j += 1 if p.is_flag or "=" in token else 2
    return None
