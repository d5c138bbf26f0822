"""A stand-in for the `rasa` command: `train nlu` writes a model file, `run` serves / and
/model/parse. Behaviour switches come from FAKE_RASA_* environment variables."""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


def arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._send(b"Hello from Rasa: 3.6.21", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        text = json.loads(self.rfile.read(length))["text"]
        body = {"text": text, "intent": {"name": "greet", "confidence": 0.99}, "entities": []}
        self._send(json.dumps(body).encode(), "application/json")

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


def main(args: list[str]) -> int:
    journal = Path(os.environ["FAKE_RASA_JOURNAL"])
    with journal.open("a") as f:
        f.write(f"{args[0]} {os.getpid()}\n")
    if args[:2] == ["train", "nlu"]:
        if os.environ.get("FAKE_RASA_TRAIN_FAILS"):
            return 1
        Path(arg(args, "--out"), arg(args, "--fixed-model-name") + ".tar.gz").write_bytes(b"m")
        return 0
    if os.environ.get("FAKE_RASA_CRASH"):
        return 3
    if os.environ.get("FAKE_RASA_IGNORE_TERM"):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    HTTPServer((arg(args, "-i"), int(arg(args, "-p"))), Handler).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
