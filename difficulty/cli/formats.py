"""``difficulty formats``: every input format, its flags, where its layout is defined, and an example."""
from __future__ import annotations

from .common import add_command, print_json


def add_parser(subparsers) -> None:
    p = add_command(subparsers, "formats", help="the input formats, with an example of each",
                    description="Every input format: tables of counts, attempts or outcome lists, an aggregate "
                                "curve, and what evaluation harnesses write (lm-evaluation-harness samples, evalplus "
                                "eval_results.json, inspect_ai .eval logs, lighteval details, problems x attempts "
                                "matrices). A file's format is recognised from its extension and content; "
                                "--format NAME settles it when a file could be more than one.",
                    example="difficulty formats lm-eval")
    p.add_argument("name", nargs="?", help="show this format only")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    from ..errors import DifficultyError
    from ..loaders import FORMATS, harness_module

    formats = FORMATS
    if args.name is not None:
        module = harness_module(args.name)
        wanted = module.NAME if module is not None else args.name.strip().lower()
        formats = tuple(f for f in FORMATS if f.name == wanted)
        if not formats:
            raise DifficultyError(f"no format {args.name!r}; formats are {', '.join(f.name for f in FORMATS)}")
    if args.json:
        print_json({"formats": [{"name": f.name, "title": f.title, "flags": f.flags, "source": f.source,
                                 "example": list(f.example)} for f in formats]})
        return 0
    for i, f in enumerate(formats):
        if i:
            print()
        print(f"{f.name}: {f.title}")
        print(f"  flags:   {f.flags}")
        print(f"  source:  {f.source}")
        print("  example:")
        for line in f.example:
            print(f"    {line}")
    return 0
