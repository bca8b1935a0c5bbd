"""``courtwatch sealed``: the organisation's sealing keys, and reading sealed details
with a key file that never has to be on the server.

    courtwatch sealed keygen --out lawyer.key      # on the lawyer's machine; prints the public key
    courtwatch sealed install-public-key cwseal1:...  # on the server: new reports are sealed to it
    courtwatch sealed public-key                   # which key seals new reports
    courtwatch sealed read REPORT_ID --key lawyer.key --as "Ana (lawyer)"
    courtwatch sealed disclose REPORT_ID FIELD --key lawyer.key --as "Ana" --out disclosure.json

``read`` and ``disclose`` need the database (DATABASE_URL) and record who read
what, as the web does. They never make or install a key.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

from courtwatch.cli import arguments, command
from courtwatch.infrastructure.config import Settings


def _configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    keygen = sub.add_parser("keygen", help="make a key pair; the private key goes to --out (0600)")
    keygen.add_argument("--out", required=True, help="where to write the private key")
    install = sub.add_parser("install-public-key", help="seal new reports to this public key")
    install.add_argument("public_key", help="the cwseal1:... text keygen printed")
    sub.add_parser("public-key", help="print the public key that seals new reports")
    for name, text in (("read", "print a report's sealed details"),
                       ("disclose", "write a disclosure of one sealed field")):  # fmt: skip
        child = sub.add_parser(name, help=text)
        child.add_argument("report_id")
        if name == "disclose":
            child.add_argument("field", help="a sealed field, or photo:<photo id>")
            child.add_argument("--out", required=True, help="the disclosure file to write")
        child.add_argument("--key", required=True, help="the unsealing key file")
        child.add_argument("--as", dest="reader", required=True, help="who reads (recorded)")


@command("sealed", help="sealing keys; read or disclose sealed details with a key file")
@arguments(_configure)
def sealed(args: argparse.Namespace, settings: Settings) -> int:
    from courtwatch.sealing import keys

    if args.action == "keygen":
        out = Path(args.out)
        if out.exists():
            print(f"courtwatch: {out} exists; not overwriting a key", file=sys.stderr)
            return 2
        private = keys.generate()
        keys.write_private_key(out, private)
        print(keys.public_text(private.public_key()))
        return 0

    from courtwatch.application import Courtwatch
    from courtwatch.cli.bootstrap import connect_database
    from courtwatch.sealed import SealedDetails
    from courtwatch.sealed.store import SealedStore

    database = connect_database(settings)
    store = SealedStore(database)
    store.install()
    if args.action == "install-public-key":
        try:
            public = keys.parse_public_text(args.public_key)
        except keys.SealingKeyError as error:
            print(f"courtwatch: {error}", file=sys.stderr)
            return 2
        store.add_public_key(keys.fingerprint(public), keys.public_bytes(public), datetime.now(UTC))
        print(f"new reports are sealed to {keys.fingerprint(public)}")
        return 0
    if args.action == "public-key":
        found = store.public_keys(pooled=False)
        if not found:
            print("no sealing key is installed", file=sys.stderr)
            return 1
        from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

        print(keys.public_text(X25519PublicKey.from_public_bytes(found[0][1])))
        return 0

    try:
        report_id = UUID(args.report_id)
        private = keys.read_private_key(Path(args.key))
    except (ValueError, keys.SealingKeyError) as error:
        print(f"courtwatch: {error}", file=sys.stderr)
        return 2
    app = Courtwatch(env=database.eventsourcing_env(pool_size=1))
    try:
        service = SealedDetails(database, app, None)
        if args.action == "read":
            values = service.read(report_id, member_id=None, reader=args.reader, private=private)
            print(json.dumps(values, ensure_ascii=False, indent=2))
            return 0
        out = Path(args.out)
        if args.field.startswith("photo:"):
            # The original file goes next to the disclosure, which names it.
            photo_id = UUID(args.field.removeprefix("photo:"))
            file_name = f"{out.stem}-photo-{photo_id}"
            disclosure, data = service.disclose_photo(
                report_id, photo_id, file_name, reader=args.reader, private=private
            )
            (out.parent / file_name).write_bytes(data)
        else:
            disclosure = service.disclose(
                report_id, args.field, reader=args.reader, private=private
            )
        out.write_text(json.dumps(disclosure, ensure_ascii=False, indent=2) + "\n")
        print(f"wrote {args.out}; give it with `courtwatch export --report {report_id}`'s bundle")
        return 0
    except Exception as error:  # one sentence, not a traceback, for a lawyer's terminal
        print(f"courtwatch: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        app.close()
