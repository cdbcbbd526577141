"""The hello-world baseline: the smallest FastAPI JSON endpoint, served like the service."""

from fastapi import FastAPI

app = FastAPI()


@app.get("/")
async def hello() -> dict[str, str]:
    return {"message": "hello world"}
