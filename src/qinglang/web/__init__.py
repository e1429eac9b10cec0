"""HTTP edge: the FastAPI app (`create_app`), its routers, schemas and middleware."""

from qinglang.web.app import create_app

__all__ = ["create_app"]
