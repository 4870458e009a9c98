"""The benchmark's baseline: the same HTTP server stack as localcloud, answering every request
with a fixed success envelope, with no signature check and no database.

Started like localcloud (`python -m benchmarks.fixed_answer_server serve --port 0 ...`).
"""

from __future__ import annotations

import argparse
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWER = json.dumps({"Response": {"Uin": 1, "Name": "n", "Uid": 1, "RequestId": "fixed"}}).encode()


class _FixedAnswer(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state")  # accepted and ignored, to start like localcloud
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), _FixedAnswer)
    server.daemon_threads = True
    print(f"localcloud listening on http://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
