"""python -m dashboard [--host 127.0.0.1] [--port 8050] [--debug]"""

from __future__ import annotations

import argparse


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="MLP Lab: watch a neural network learn, live, in the browser. "
                    "Sessions live in this process's memory unless MLPLAB_REDIS_URL is set.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8050, help="port to listen on")
    parser.add_argument("--debug", action="store_true", help="Dash dev tools and reloading")
    args = parser.parse_args(argv)

    from .app import app

    print(f"MLP Lab: open http://{args.host}:{args.port} (Ctrl+C stops it)", flush=True)
    # No version check: the dev tools would otherwise ask plotly.com (the lab works offline).
    app.run(host=args.host, port=args.port, debug=args.debug,
            dev_tools_disable_version_check=True)


if __name__ == "__main__":
    main()
