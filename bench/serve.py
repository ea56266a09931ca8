"""Start one server under test on 127.0.0.1 with one uvicorn worker (the runner pins it to a core).

    python -m bench.serve product|floor|stock --port 8101

Everything else comes from the environment the runner sets: `product` reads the product's own
settings (`Settings.from_env`) and runs through `server.main.serve`, exactly as `manage.py serve`
does; `floor` and `stock` read DATABASE_URL (and `stock` JWT_SECRET).
"""

from __future__ import annotations

import argparse
import os

import uvicorn

HOST = "127.0.0.1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=("product", "floor", "stock"))
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.kind == "product":
        from core.settings import Settings
        from server.main import serve

        serve(Settings.from_env(), HOST, args.port)
    elif args.kind == "floor":
        from bench.floor import create_floor_app

        app = create_floor_app(os.environ["DATABASE_URL"])
        uvicorn.run(app, host=HOST, port=args.port, log_level="warning", access_log=False)
    else:
        uvicorn.run("bench.stock:app", host=HOST, port=args.port)  # uvicorn's defaults


if __name__ == "__main__":
    main()
