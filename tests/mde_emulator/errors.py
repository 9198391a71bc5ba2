"""The Defender API's error body, with a fresh correlation id each time."""

import json
import uuid

from werkzeug.wrappers import Response


class ApiError(Exception):
    def __init__(self, status, code, message, headers=None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_response(status, code, message, headers=None):
    body = {"error": {"code": code, "message": message, "target": str(uuid.uuid4())}}
    return json_response(body, status=status, headers=headers)


def json_response(body, status=200, headers=None):
    resp = Response(json.dumps(body), status=status, mimetype="application/json", headers=headers or {})
    return resp
