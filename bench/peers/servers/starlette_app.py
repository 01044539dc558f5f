"""Starlette under uvicorn, the seed's anchor: VARIANT is none, base1, base10, pure1 or pure10.

Serves GET / with 13 bytes of text and GET /stream with 1 MiB in 64 KiB chunks; every
middleware sets the same header. Prints `listening <url>` once the socket is bound.
"""
import os
import resource
import socket
import sys
import threading

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

HELLO = b"Hello, world!"
CHUNK = b"x" * (64 * 1024)


async def hello(request):
    return Response(HELLO, media_type="text/plain")


async def chunks():
    for _ in range(16):
        yield CHUNK


async def stream(request):
    return StreamingResponse(chunks(), media_type="application/octet-stream")


class SetHeader(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["x-middleware"] = "1"
        return response


class PureSetHeader:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        async def send_with_header(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [(b"x-middleware", b"1")]
            await send(message)

        await self.app(scope, receive, send_with_header)


variant = os.environ.get("VARIANT", "none")
kind, count = (variant[:-2], 10) if variant.endswith("10") else (variant[:-1], 1) if variant[-1:] == "1" else ("none", 0)
middleware = [Middleware(SetHeader if kind == "base" else PureSetHeader) for _ in range(count)]
app = Starlette(routes=[Route("/", hello), Route("/stream", stream)], middleware=middleware)

def report_cpu():
    """Answers the runner's `cpu` lines on stdin with this process's CPU time so far, in µs."""
    for line in sys.stdin:
        if line.strip() == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(f"cpu {round((usage.ru_utime + usage.ru_stime) * 1e6)}", flush=True)


threading.Thread(target=report_cpu, daemon=True).start()

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
sock.bind(("127.0.0.1", int(os.environ.get("PORT", "0"))))
print(f"listening http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
uvicorn.run(app, fd=sock.fileno(), log_level="warning", lifespan="off")
