#!/usr/bin/env python3
"""Checks the vkllm command line against itself and against the README.

usage VKLLM         `vkllm CMD --help` and `-h` exit 0 with the command's usage for every command;
                    an unknown option and an option without its value exit 2 with the message and
                    the command's usage on stderr; so do no command and an unknown one.
readme VKLLM FILE   the README "Commands" table agrees with the help text: a row for every command,
                    every option a row lists (with [sampling] / [model] standing for the
                    "Sampling options" / "Model options" lines) is one the command takes, every
                    option the command takes is in its row, and so is every positional argument.

Reads CLI11's help layout: section lines end in ':', an entry starts two spaces in, and its
names (comma-separated) come first, then the value type, if any, after one space.
Runs no model and needs no GPU. Standard library only.
"""

import re
import subprocess
import sys

OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")


def run(vkllm, args):
    p = subprocess.run([vkllm, *args], capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def sections(help_text):
    """{section title: [(names, takes_value)]} of one help text."""
    out, title = {}, None
    for line in help_text.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            title = line[:-1]
            out[title] = []
        elif title and re.match(r"^  \S", line):
            head = re.split(r"\s{2,}", line.strip())[0]
            names, _, value = head.partition(" ")
            out[title].append((names.split(","), bool(value)))
    return out


def options(help_text):
    """[(names, takes_value)] of every option but --help."""
    return [
        (names, value)
        for title, entries in sections(help_text).items()
        if title not in ("Subcommands", "Positionals")
        for names, value in entries
        if "--help" not in names
    ]


def positionals(help_text):
    return [names[0] for names, _ in sections(help_text).get("Positionals", [])]


def commands(vkllm, path=()):
    """Every command path with no subcommands of its own: ("run",), ("bench", "ops"), ..."""
    rc, out, err = run(vkllm, [*path, "--help"])
    if rc != 0:
        raise SystemExit(f"vkllm {' '.join(path)} --help: exit {rc}\n{err}")
    subs = [names[0] for names, _ in sections(out).get("Subcommands", [])]
    if not subs:
        return [path]
    return [leaf for sub in subs for leaf in commands(vkllm, (*path, sub))]


class Checker:
    def __init__(self):
        self.failures = []

    def expect(self, ok, what):
        if not ok:
            self.failures.append(what)

    def finish(self, name):
        for f in self.failures:
            print(f"FAIL {f}", file=sys.stderr)
        print(f"{name}: {len(self.failures)} failure(s)")
        return 1 if self.failures else 0


def check_usage(vkllm):
    c = Checker()
    leaves = commands(vkllm)
    c.expect(len(leaves) >= 13, f"only {len(leaves)} commands in vkllm --help")
    # Every command path, with the groups (bench) too.
    paths = sorted({leaf[:i] for leaf in leaves for i in range(1, len(leaf) + 1)})
    for path in paths:
        name = "vkllm " + " ".join(path)
        usage = "Usage: " + name + " "
        for flag in ("--help", "-h"):
            rc, out, err = run(vkllm, [*path, flag])
            c.expect(rc == 0, f"{name} {flag}: exit {rc}, stderr {err!r}")
            c.expect(usage in out, f"{name} {flag}: no '{usage}' in {out!r}")
        rc, out, err = run(vkllm, ["help", *path])
        c.expect(rc == 0 and usage in out, f"vkllm help {' '.join(path)}: exit {rc}")

        rc, out, err = run(vkllm, [*path, "--no-such-option"])
        c.expect(rc == 2, f"{name} --no-such-option: exit {rc}, expected 2")
        c.expect("--no-such-option" in err and usage in err,
                 f"{name} --no-such-option: stderr lacks the option or the usage: {err!r}")
        c.expect(out == "", f"{name} --no-such-option: wrote to stdout: {out!r}")

        _, help_text, _ = run(vkllm, [*path, "--help"])
        valued = [names for names, value in options(help_text) if value]
        if valued:
            opt = valued[0][-1]
            rc, out, err = run(vkllm, [*path, opt])
            c.expect(rc == 2, f"{name} {opt} (no value): exit {rc}, expected 2")
            c.expect(opt in err and usage in err,
                     f"{name} {opt} (no value): stderr lacks the option or the usage: {err!r}")
        else:  # so the missing-value case is never skipped silently for a command
            c.expect(path not in leaves, f"{name}: no option that takes a value to test")

    rc, out, err = run(vkllm, [])
    c.expect(rc == 2 and "Usage: vkllm " in err, f"vkllm (no command): exit {rc}, stderr {err!r}")
    rc, out, err = run(vkllm, ["no-such-command"])
    c.expect(rc == 2 and "unknown command 'no-such-command'" in err and "Usage: vkllm " in err,
             f"vkllm no-such-command: exit {rc}, stderr {err!r}")
    return c.finish("cli usage")


def readme_rows(text):
    """{command path: first cell} of the "Commands" table, and the group lines."""
    rows = {}
    for line in text.splitlines():
        m = re.match(r"^\| `vkllm ((?:[a-z][a-z-]* ?)+)(.*?)` \|", line)
        if m:
            rows[tuple(m.group(1).split())] = m.group(1) + m.group(2)
    groups = {}
    for m in re.finditer(r"^(\w+) options: (.*?)(?:\n\n|\Z)", text, re.M | re.S):
        groups[m.group(1).lower()] = m.group(2)
    return rows, groups


def check_readme(vkllm, readme):
    c = Checker()
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    rows, groups = readme_rows(text)
    c.expect("sampling" in groups and "model" in groups,
             "README: no 'Sampling options:' or 'Model options:' line")
    leaves = commands(vkllm)
    for path in leaves:
        name = "vkllm " + " ".join(path)
        row = rows.get(path)
        if row is None:
            c.failures.append(f"README: no row for `{name}`")
            continue
        listed = set(OPTION.findall(row))
        for group in re.findall(r"\[(\w+)\]", row):
            if group in groups:
                listed |= set(OPTION.findall(groups[group]))
            else:
                c.failures.append(f"README row `{name}`: [{group}] has no '{group} options:' line")
        _, help_text, _ = run(vkllm, [*path, "--help"])
        taken = options(help_text)
        names = {n for names, _ in taken for n in names}
        for opt in sorted(listed - names):
            c.failures.append(f"README row `{name}` lists {opt}, which `{name} --help` does not")
        for opt_names in taken:
            if not listed & set(opt_names[0]):
                c.failures.append(f"`{name} --help` has {','.join(opt_names[0])}, "
                                  "missing from its README row")
        words = set(re.findall(r"[A-Z]+", row))
        for pos in positionals(help_text):
            c.expect(pos in words, f"README row `{name}` lacks the argument {pos}")
    for path in sorted(set(rows) - set(leaves)):
        c.failures.append(f"README row `vkllm {' '.join(path)}`: no such command")
    return c.finish("cli readme")


def main(argv):
    if len(argv) == 3 and argv[1] == "usage":
        return check_usage(argv[2])
    if len(argv) == 4 and argv[1] == "readme":
        return check_readme(argv[2], argv[3])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
