"""`python -m localcloud serve`: start the CAM stand-in.

Credentials come from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY, the same variables the
provider and the SDKs read, so one pair of values configures both sides.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from localcloud.authorization import RestrictedIdentity, load_identity
from localcloud.cam.last_used import record_use
from localcloud.errors import ApiError
from localcloud.rate_limits import RateLimits
from localcloud.seed import apply_seed
from localcloud.server import Faults, Listener, listen, open_cloud, serve
from localcloud.store import Store
from localcloud.tls import make_authority, write_ca

# The uins of --restricted-identity keys, in the order given: sub-users localcloud does not list.
RESTRICTED_UIN_BASE = 100030000001
MAX_LAG_MS = 60_000.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m localcloud", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "serve",
        help="serve CAM 2019-01-16, tag 2018-08-13 and STS 2018-08-13 over HTTP, and over HTTPS through its proxy",
        allow_abbrev=False,  # scripts/with_localcloud.sh reads --consistency-lag-ms by its full name
    )
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=18080, help="0 picks a free port (printed at start)")
    run.add_argument("--state", type=Path, default=Path(".localcloud/state.db"), help="SQLite database file")
    run.add_argument("--owner-uin", type=int, default=100012345678, help="the root account's UIN")
    run.add_argument("--seed", type=Path, help="JSON file of users and groups that must exist (see README)")
    run.add_argument("--throttle-rate", type=float, default=0.0, help="share of requests answered RequestLimitExceeded")
    run.add_argument(
        "--rate-limits",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="enforce CAM's documented requests per second per action (on unless --no-rate-limits)",
    )
    run.add_argument(
        "--consistency-lag-ms",
        type=float,
        default=0.0,
        help="reads see a write only this many ms after it (CAM's reads trail its writes)",
    )
    run.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every request")
    run.add_argument(
        "--restricted-identity",
        nargs=3,
        action="append",
        default=[],
        metavar=("SECRET_ID", "SECRET_KEY", "POLICY_FILE"),
        help="another key pair, limited to the actions a CAM policy document allows (repeatable)",
    )
    run.add_argument(
        "--other-account-key",
        nargs=3,
        action="append",
        default=[],
        metavar=("SECRET_ID", "SECRET_KEY", "ACCOUNT_UIN"),
        help="the root key of another account, which localcloud then serves too, its state beside --state's"
        " (STATE-UIN.db); requests signed with it act in that account (repeatable)",
    )
    run.add_argument(
        "--ca-file",
        type=Path,
        help="where to write the certificate of the CA localcloud makes at start, for HTTPS through the proxy"
        " (default: the state file's path + .ca.pem)",
    )
    run.add_argument("--verbose", action="store_true", help="log every request")
    use = commands.add_parser(
        "record-use", help="local only, for tests: record console logins and API key use, which CAM records itself"
    )
    use.add_argument("--state", type=Path, default=Path(".localcloud/state.db"), help="SQLite database file")
    use.add_argument("--login", action="append", default=[], metavar="USER=TIME", help="a console login (repeatable)")
    use.add_argument("--key", action="append", default=[], metavar="SECRET_ID=TIME", help="a key's use (repeatable)")
    return parser


def _record_use(args: argparse.Namespace) -> int:
    """Writes the state file directly (a running server sees it at its next request)."""
    pairs = {"--login": args.login, "--key": args.key}
    bad = [f"{flag} {value}" for flag, values in pairs.items() for value in values if "=" not in value]
    if bad:
        print(f"localcloud: expected NAME=YYYY-MM-DD[ HH:MM:SS], got: {', '.join(bad)}", file=sys.stderr)
        return 2
    logins, keys = (dict(value.split("=", 1) for value in values) for values in pairs.values())
    store = Store(args.state)
    try:
        record_use(store, logins, keys)
    except ApiError as error:
        print(f"localcloud: nothing recorded: {error.code}: {error.message}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0


def _key_problems(args: argparse.Namespace, secret_id: str) -> list[str]:
    """What is wrong with the keys given by flags, all at once."""
    problems = []
    # The uin names the account's state file: digits only, as account uins are.
    bad = [
        uin
        for *_, uin in args.other_account_key
        if not re.fullmatch(r"[1-9][0-9]{0,19}", uin) or int(uin) == args.owner_uin
    ]
    if bad:
        problems.append(
            f"--other-account-key needs the uin (1 to 20 digits) of another account than {args.owner_uin},"
            f" not {', '.join(repr(uin) for uin in bad)}"
        )
    key_ids = [secret_id, *(key[0] for key in args.restricted_identity + args.other_account_key)]
    reused = sorted({key_id for key_id in key_ids if key_ids.count(key_id) > 1})
    if reused:
        problems.append(f"each key needs its own SecretId; given more than once: {', '.join(reused)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "record-use":
        return _record_use(args)
    secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID")
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY")
    if not secret_id or not secret_key:
        print("localcloud: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (any values)", file=sys.stderr)
        return 2
    if not 0.0 <= args.throttle_rate < 1.0:
        print("localcloud: --throttle-rate must be at least 0 and below 1", file=sys.stderr)
        return 2
    if not 0.0 <= args.consistency_lag_ms <= MAX_LAG_MS:
        print(f"localcloud: --consistency-lag-ms must be from 0 to {MAX_LAG_MS:g}", file=sys.stderr)
        return 2
    try:
        seed = json.loads(args.seed.read_text()) if args.seed else {}
    except (OSError, ValueError) as error:
        print(f"localcloud: the seed {args.seed} cannot be read: {error}", file=sys.stderr)
        return 2
    try:
        restricted = {
            key_id: load_identity(key, Path(file), RESTRICTED_UIN_BASE + index)
            for index, (key_id, key, file) in enumerate(args.restricted_identity)
        }
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"localcloud: a --restricted-identity policy cannot be read: {error!r}", file=sys.stderr)
        return 2
    problems = _key_problems(args, secret_id)
    if problems:
        print(f"localcloud: {'; '.join(problems)}", file=sys.stderr)
        return 2
    try:
        server = listen(args.host, args.port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        print(
            f"localcloud: port {args.port} on {args.host} is in use; choose another with --port (0 picks a free one)",
            file=sys.stderr,
        )
        return 2
    try:
        return _run(args, {secret_id: secret_key}, seed, restricted, server)
    finally:
        server.server_close()


def _run(
    args: argparse.Namespace,
    credentials: dict[str, str],
    seed: dict[str, Any],
    restricted: dict[str, RestrictedIdentity],
    server: Listener,
) -> int:
    """Opens each account's state, applies the seed and serves until interrupted."""
    other_accounts = {key_id: (key, int(uin)) for key_id, key, uin in args.other_account_key}
    cloud = open_cloud(
        args.state,
        credentials,
        args.owner_uin,
        Faults(args.throttle_rate, args.latency_ms / 1000, RateLimits() if args.rate_limits else None),
        restricted,
        other_accounts,
    )
    try:
        apply_seed(cloud, seed)
    except (KeyError, TypeError, ApiError) as error:
        print(f"localcloud: the seed {args.seed} cannot be applied: {error!r}", file=sys.stderr)
        cloud.close()
        return 2
    for store in cloud.stores.values():
        store.lag_reads(args.consistency_lag_ms / 1000)  # after the seed, which exists before anyone reads
    authority = make_authority()
    ca_file = args.ca_file or Path(f"{args.state}.ca.pem")
    try:
        write_ca(authority, ca_file)
    except OSError as error:
        print(f"localcloud: the CA certificate cannot be written to {ca_file}: {error}", file=sys.stderr)
        cloud.close()
        return 2
    try:
        serve(server, cloud, args.verbose, authority)
    except KeyboardInterrupt:
        pass
    finally:
        cloud.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
