"""The hello-world baseline: the smallest FastAPI JSON endpoint, served like the service.

``python -m bench.hello_app --workers N --port P`` starts it the way ``customer-registry
serve`` starts the service: the same uvicorn settings and the same listening sockets.
"""

import argparse

from fastapi import FastAPI

from customer_registry.cli import listeners

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "hello world"}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    listeners.run(
        "bench.hello_app:app",
        workers=args.workers,
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_level="warning",
    )
