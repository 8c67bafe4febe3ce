"""The command line: ``mailsleuth analyze PATH``, ``mailsleuth eval DIR``, ``mailsleuth serve``.

Exit status: 0 when a report was produced, 2 for unusable input or arguments (one clear line on
stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn

from mailsleuth.config import Config
from mailsleuth.errors import ConfigError, InputError, MailsleuthError

MAX_READ = 64 * 1024 * 1024


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"mailsleuth: {message}\n")
        raise SystemExit(2)


def _add_common(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("DNS")
    g.add_argument("--dns-snapshot", metavar="FILE", help="answer DNS from a snapshot file instead of the network")
    g.add_argument("--offline", action="store_true", help="no DNS at all; checks that need it say so")
    g.add_argument("--record-dns", metavar="FILE", help="save every DNS answer seen as a snapshot for replay")
    g.add_argument("--dns-server", action="append", metavar="IP[@PORT]", help="resolver to ask (repeatable)")
    g.add_argument("--dns-timeout", type=float, metavar="SECONDS")
    t = p.add_argument_group("trust boundary")
    t.add_argument("--trusted-authserv-id", action="append", metavar="ID",
                   help="authserv-id of the recipient's own authentication headers (repeatable)")
    t.add_argument("--trusted-relay", action="append", metavar="HOST",
                   help="host name (or *.suffix) of the recipient's own relays (repeatable)")
    t.add_argument("--trusted-network", action="append", metavar="CIDR", help="network of the recipient's relays")
    t.add_argument("--own-domain", action="append", metavar="DOMAIN",
                   help="the recipient organisation's own domain, for imitation checks (repeatable)")
    o = p.add_argument_group("opt-in web lookups")
    o.add_argument("--rdap", action="store_true", help="look up registration data (RDAP) for domains and IPs")
    o.add_argument("--follow-links", action="store_true", help="follow links' redirect chains (HEAD/GET, no cookies)")
    a = p.add_argument_group("analysis")
    a.add_argument("--ip", metavar="IP", help="evaluate SPF at this client IP instead of the boundary hop's")
    a.add_argument("--now", metavar="ISO8601", help="pin the current time (reproducible reports)")
    a.add_argument("--config", metavar="FILE", help="TOML configuration file (default ./mailsleuth.toml)")


def build_parser() -> argparse.ArgumentParser:
    from mailsleuth.version import __version__

    parser = _Parser(prog="mailsleuth", description="Explain where an email came from and whether to trust it.")
    parser.add_argument("--version", action="version", version=f"mailsleuth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    an = sub.add_parser("analyze", help="analyse one message (.eml, headers, mbox, .msg)")
    an.add_argument("path", help="message file, or - for standard input")
    an.add_argument("--format", choices=("text", "json", "html", "md"), default="text")
    an.add_argument("--json", action="store_true", help="same as --format json")
    an.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of standard output")
    an.add_argument("--redact", action="store_true", help="mask the recipient's addresses and own host names")
    an.add_argument("--width", type=int, default=None, help="terminal report width")
    an.add_argument("--color", action="store_true", help="colour the terminal report")
    an.add_argument("-v", "--verbose", action="store_true")
    _add_common(an)
    ev = sub.add_parser("eval", help="evaluate verdicts over a labelled folder (phish/ legit/ spam/), offline")
    ev.add_argument("directory")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--limit", type=int, default=None, help="at most this many messages per label")
    ev.add_argument("--show-errors", action="store_true", help="list the misjudged files")
    _add_common(ev)
    sv = sub.add_parser("serve", help="run the web app (binds 127.0.0.1 unless told otherwise)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8025)
    sv.add_argument("--max-upload", type=int, default=25 * 1024 * 1024, metavar="BYTES")
    _add_common(sv)
    return parser


def config_from_args(args: argparse.Namespace) -> Config:
    from mailsleuth.config import load_config

    cfg = load_config(args.config)
    mode = None
    if getattr(args, "offline", False):
        mode = "off"
    elif getattr(args, "dns_snapshot", None):
        mode = "snapshot"
    if args.ip:
        from mailsleuth.domains import is_ip

        if not is_ip(args.ip):
            raise ConfigError(f"--ip {args.ip!r} is not an IP address")
    if args.now:
        from datetime import datetime

        try:
            datetime.fromisoformat(args.now)
        except ValueError:
            raise ConfigError(f"--now {args.now!r} is not an ISO 8601 time") from None
    return cfg.with_overrides(
        dns_mode=mode, dns_snapshot=args.dns_snapshot, record_dns=args.record_dns,
        dns_servers=tuple(args.dns_server) if args.dns_server else None, dns_timeout=args.dns_timeout,
        trusted_authserv_ids=(*cfg.trusted_authserv_ids, *args.trusted_authserv_id) if args.trusted_authserv_id else None,
        trusted_relays=(*cfg.trusted_relays, *args.trusted_relay) if args.trusted_relay else None,
        trusted_networks=(*cfg.trusted_networks, *args.trusted_network) if args.trusted_network else None,
        own_domains=(*cfg.own_domains, *args.own_domain) if args.own_domain else None,
        rdap=True if args.rdap else None, follow_links=True if args.follow_links else None,
        client_ip=args.ip, now=args.now, redact=True if getattr(args, "redact", False) else None,
    )


def _read_input(path: str) -> bytes:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_READ + 1)
    else:
        p = Path(path)
        if p.is_dir():
            raise InputError(f"{path} is a directory, not a message file")
        try:
            with p.open("rb") as fh:
                data = fh.read(MAX_READ + 1)
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except OSError as exc:
            raise InputError(f"{path}: {exc.strerror or exc}") from None
    if len(data) > MAX_READ:
        raise InputError(f"{path}: larger than {MAX_READ // (1024 * 1024)} MiB; not analysed")
    return data


def cmd_analyze(args: argparse.Namespace) -> int:
    from mailsleuth.api import analyze

    cfg = config_from_args(args)
    data = _read_input(args.path)
    report = analyze(data, config=cfg, filename=None if args.path == "-" else args.path)
    fmt = "json" if args.json else args.format
    if getattr(cfg, "redact", False):
        from mailsleuth.redact import redact_report

        report = redact_report(report)
    if fmt == "json":
        from mailsleuth.render.jsonout import render_json

        text = render_json(report) + "\n"
    elif fmt == "html":
        from mailsleuth.render.html import render_html

        text = render_html(report)
    elif fmt == "md":
        from mailsleuth.render.markdown import render_markdown

        text = render_markdown(report)
    else:
        from mailsleuth.render.terminal import render_terminal

        color = bool(args.color)
        width = args.width or (None if sys.stdout.isatty() else 110)
        text = render_terminal(report, width=width or 110, color=color, verbose=args.verbose)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from mailsleuth.api import prepare_for_many
    from mailsleuth.evaluate import evaluate_dir, format_eval

    cfg = config_from_args(args)
    prepare_for_many(cfg)
    result = evaluate_dir(Path(args.directory), config=cfg, limit=args.limit)
    sys.stdout.write(format_eval(result, as_json=args.json, show_errors=args.show_errors))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        from mailsleuth.web.app import serve
    except ImportError as exc:
        raise ConfigError(f"the web app is not available: {exc}") from None
    from mailsleuth.api import prepare_for_many

    cfg = config_from_args(args)
    prepare_for_many(cfg)
    serve(cfg, host=args.host, port=args.port, max_upload=args.max_upload)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"analyze": cmd_analyze, "eval": cmd_eval, "serve": cmd_serve}
    try:
        return handlers[args.command](args)
    except (InputError, ConfigError) as exc:
        sys.stderr.write(f"mailsleuth: {exc}\n")
        return 2
    except MailsleuthError as exc:
        sys.stderr.write(f"mailsleuth: internal error: {exc}\n")
        return 3
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        sys.stderr.write("mailsleuth: interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
