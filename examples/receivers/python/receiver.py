"""A receiver for CloudKeep Webhooks deliveries, on Python's standard library only (http.server, hmac, hashlib).

Run: WEBHOOK_SECRET=whsec_… [WEBHOOK_SCHEME=cloudkeep|standard] [PORT=8080] [HOST=127.0.0.1] python3 receiver.py
Answers 200 to a delivery whose signature verifies and 400 to anything else; prints one JSON line per request.
"""
import base64
import hashlib
import hmac
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SECRET = os.environ.get("WEBHOOK_SECRET", "")
SCHEME = os.environ.get("WEBHOOK_SCHEME", "cloudkeep")
TOLERANCE_SECONDS = 5 * 60  # Standard Webhooks: refuse a webhook-timestamp further than this from our clock
MAX_BODY_BYTES = 1024 * 1024
if not SECRET:
    raise SystemExit("Set WEBHOOK_SECRET to the webhook secret shown when the webhook was created")
if SCHEME not in ("cloudkeep", "standard"):
    raise SystemExit("WEBHOOK_SCHEME must be cloudkeep or standard")
# Standard Webhooks keys the HMAC with the bytes the secret encodes: `whsec_` dropped, the rest base64-decoded.
STANDARD_KEY = base64.b64decode(SECRET.removeprefix("whsec_")) if SCHEME == "standard" else b""


def verify_cloudkeep(headers, body):
    """X-CloudKeep-Signature-256: `sha256=` + hex HMAC-SHA256 of the raw body, keyed with the secret string."""
    signature = headers.get("X-CloudKeep-Signature-256")
    if not signature:
        return "missing X-CloudKeep-Signature-256"
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    # Constant-time comparison: how long it takes must not tell an attacker how much of a forgery was right.
    return None if hmac.compare_digest(signature.encode(), expected.encode()) else "signature mismatch"


def verify_standard(headers, body):
    """Standard Webhooks: `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed with the base64-decoded secret."""
    webhook_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not webhook_id or not timestamp or not signatures:
        return "missing webhook-id, webhook-timestamp or webhook-signature"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "webhook-timestamp is not a number"
    if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
        return "webhook-timestamp too old or too new"
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    expected = "v1," + base64.b64encode(hmac.new(STANDARD_KEY, signed, hashlib.sha256).digest()).decode()
    # The header is a space-separated list; any one matching is enough.
    matches = [hmac.compare_digest(s.encode(), expected.encode()) for s in signatures.split(" ")]
    return None if any(matches) else "signature mismatch"


# Event ids already handled: a retry, a redelivery or a replayed request is acknowledged, not acted on twice.
handled = set()
handled_lock = threading.Lock()


def handle(headers, body):
    problem = verify_standard(headers, body) if SCHEME == "standard" else verify_cloudkeep(headers, body)
    if problem:
        return 400, {"rejected": problem}
    try:
        event = json.loads(body)  # parsed only now that the bytes are known to be ours
    except ValueError:
        return 400, {"rejected": "body is not JSON"}
    with handled_lock:
        if event.get("id") in handled:
            return 200, {"duplicate": event.get("id")}
        handled.add(event.get("id"))
    # Act on the event here (queue it, preferably: answer within 10 seconds or the delivery counts as failed).
    return 200, {"accepted": event.get("id"), "event": event.get("event")}


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return self.answer(400, {"rejected": "bad Content-Length"})
        if length > MAX_BODY_BYTES:
            return self.answer(413, {"rejected": "body too large"})
        self.answer(*handle(self.headers, self.rfile.read(length)))

    def answer(self, status, result):
        line = json.dumps(result, separators=(",", ":"))
        print(line, flush=True)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(line)))
        self.end_headers()
        self.wfile.write(line.encode())

    def log_message(self, format, *args):
        pass  # the JSON line in answer() is the log


server = ThreadingHTTPServer((os.environ.get("HOST", "127.0.0.1"), int(os.environ.get("PORT", "8080"))), Receiver)
print(json.dumps({"listening": server.server_address[1], "scheme": SCHEME}, separators=(",", ":")), flush=True)
server.serve_forever()
