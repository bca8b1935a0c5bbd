"""Where an idle live-map viewer's server memory goes, by source file (tracemalloc).

Run: .venv/bin/python bench/viewer_memory.py [--viewers 1000]

The app is served in this process (uvicorn with `courtwatch serve`'s options,
projections off, an empty map); the viewers connect from a child process, so
only the server's allocations are traced. Prints the traced bytes per viewer
by file and by line: what bench/wave.py's per-viewer RSS figure is made of.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import fresh_database
from courtwatch.cli.bootstrap import background, bootstrap
from courtwatch.infrastructure.config import Settings
from tests.conftest import ServerThread
from web.app import create_app

CLIENT = """
import asyncio, sys
from websockets.asyncio.client import connect
async def main():
    sockets = []
    for _ in range(int(sys.argv[2])):
        ws = await connect(sys.argv[1], compression=None)
        await ws.recv()
        sockets.append(ws)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
asyncio.run(main())
"""


def short(filename: str) -> str:
    return filename.split("site-packages/")[-1].split("python3.11/")[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument(
        "--depth", type=int, default=1, help="frames per allocation: >1 prints who allocated"
    )
    args = parser.parse_args()
    count = args.viewers
    db = fresh_database("bench_viewer_memory")
    settings = Settings(database_url=db.url, data_dir=Path(tempfile.mkdtemp()) / "data")
    services = bootstrap(settings, db)
    app = create_app(services, background(services, run_projections=False))
    try:
        with ServerThread(app) as server:
            url = server.url.replace("http", "ws") + "/ws/live"
            tracemalloc.start(args.depth)
            time.sleep(1)
            before = tracemalloc.take_snapshot()
            viewers = subprocess.Popen(
                [sys.executable, "-c", CLIENT, url, str(count)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert viewers.stdout is not None and viewers.stdout.readline().strip() == "ready"
            time.sleep(1)
            after = tracemalloc.take_snapshot()
            by_file = after.compare_to(before, "filename")
            total = sum(s.size_diff for s in by_file)
            print(f"{count} idle viewers: {total / count / 1024:.1f} KiB traced per viewer")
            for stat in by_file[:15]:
                name = short(stat.traceback[0].filename)
                print(f"{stat.size_diff / count:7.0f} B  {name}")
            print("by line:")
            for stat in after.compare_to(before, "lineno")[:10]:
                frame = stat.traceback[0]
                print(f"{stat.size_diff / count:7.0f} B  {short(frame.filename)}:{frame.lineno}")
            if args.depth > 1:
                print("by allocation site, with its callers:")
                for stat in after.compare_to(before, "traceback")[:12]:
                    print(f"{stat.size_diff / count:7.0f} B")
                    for frame in stat.traceback:
                        print(f"           {short(frame.filename)}:{frame.lineno}")
            assert viewers.stdin is not None
            viewers.stdin.close()
            viewers.wait(30)
    finally:
        services.close()


if __name__ == "__main__":
    os.environ.setdefault("COURTWATCH_LOG_LEVEL", "WARNING")
    main()
