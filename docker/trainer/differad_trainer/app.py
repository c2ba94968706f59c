"""Trainer API v1 over HTTP (FastAPI): paths and JSON shapes of packages/trainer-client/src/api/routes.ts.

Bodies are read with a size limit (body_limit.py: 413 before reading a body
declared too large, drained a bounded amount so the client reads it), parsed as strict JSON and validated with
the pydantic models of schemas.py here (not by FastAPI), so every 400 has the
API's one error body naming the wrong fields. Replies are validated against
the response models before they leave. Commands run one at a time on the
dispatcher's thread; with several ranks the dispatcher broadcasts each first.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Callable, Optional, Type

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import schemas
from .body_limit import BodyTooLarge, DrainingResponse, read_body
from .errors import TrainerError, field_problems, invalid_request
from .service import TrainerService

log = logging.getLogger('differad_trainer')

#: (path, command, request model, response model) of every POST route.
POST_ROUTES = [
    ('/v1/forward_backward', 'forward_backward', schemas.ForwardBackwardRequest, schemas.ForwardBackwardResponse),
    ('/v1/optim_step', 'optim_step', schemas.OptimStepRequest, schemas.OptimStepResponse),
    ('/v1/checkpoints', 'save_checkpoint', schemas.SaveCheckpointRequest, schemas.CheckpointResponse),
    ('/v1/checkpoints/load', 'load_checkpoint', schemas.LoadCheckpointRequest, schemas.CheckpointResponse),
    ('/v1/weights/send', 'send_weights', schemas.SendWeightsRequest, schemas.SendWeightsResponse),
    ('/v1/weights/manifest', 'weights_manifest', schemas.WeightsManifestRequest, schemas.WeightsManifestResponse),
    ('/v1/score_tokens', 'score_tokens', schemas.ScoreTokensRequest, schemas.ScoreTokensResponse),
]


class Dispatcher:
    """One command at a time, on one thread (the model is not thread-safe; ranks must agree on order)."""

    def __init__(self, service: TrainerService) -> None:
        self.service = service
        self.load_error: Optional[BaseException] = None
        self.on_load_error: Optional[Callable[[BaseException], None]] = None
        self.on_loaded: Optional[Callable[[], None]] = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix='differad-trainer')

    def start(self) -> None:
        if self.service.policy is None:
            self._executor.submit(self._load)

    def _load(self) -> None:
        try:
            self.service.load()
            log.info('model %s loaded (%s backend, world size %d)', self.service.config.model_name,
                     self.service.config.backend, self.service.comm.world_size)
            if self.on_loaded:
                self.on_loaded()
        except BaseException as e:  # noqa: BLE001 - reported on every later call
            self.load_error = e
            log.error('the model failed to load:\n%s', traceback.format_exc())
            if self.on_load_error:
                self.on_load_error(e)

    def _execute(self, name: str, payload: dict) -> dict:
        if self.load_error is not None:
            raise TrainerError('TRAINER_INTERNAL', f'the model failed to load: {self.load_error}')
        if self.service.comm.world_size > 1:
            self.service.comm.broadcast_command((name, payload))
        return self.service.execute(name, payload)

    async def run(self, name: str, payload: dict) -> dict:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._execute, name, payload)

    def close(self) -> None:
        if self.service.comm.world_size > 1:
            self._executor.submit(self.service.comm.broadcast_command, ('shutdown', None)).result()
        self._executor.shutdown(wait=True)


def _reject_constant(name: str) -> Any:
    raise ValueError(f'{name} is not JSON')


def parse_request(body: bytes, model: Type[schemas.BaseModel]) -> dict:
    """Strict JSON (no NaN/Infinity) validated by ``model``; TRAINER_REQUEST_INVALID names each wrong field.
    The JSON comes back as parsed, except packed completions, decoded to the arrays (schemas.request_payload)."""
    try:
        data = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as e:
        raise invalid_request([{'field': '', 'message': f'the body is not JSON: {e}'}]) from None
    try:
        parsed = model.parse_obj(data)
    except schemas.ValidationError as e:
        raise invalid_request(field_problems(e.errors())) from None
    return schemas.request_payload(parsed, data)


def create_app(service: TrainerService, dispatcher: Optional[Dispatcher] = None) -> FastAPI:
    """The HTTP app around a service; the model loads on startup, in the background."""
    dispatcher = dispatcher or Dispatcher(service)
    app = FastAPI(title='differad trainer', docs_url=None, redoc_url=None, openapi_url=None)
    app.state.dispatcher = dispatcher

    def error_response(e: TrainerError) -> JSONResponse:
        service.counters.request_errors += 1
        return JSONResponse(e.to_body(), status_code=e.status)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        dispatcher.start()
        try:
            yield
        finally:
            dispatcher.close()

    # Set on the router: FastAPI 0.92 (Debian) has no lifespan= argument, newer ones deprecate on_event.
    app.router.lifespan_context = lifespan

    @app.get('/v1/health')
    async def health() -> Response:
        # exclude_unset: an optional field the service leaves out stays absent (never null).
        return JSONResponse(schemas.HealthResponse.parse_obj(service.health()).dict(exclude_unset=True))

    @app.get('/metrics')
    async def metrics() -> Response:
        return PlainTextResponse(service.metrics(), media_type='text/plain; version=0.0.4; charset=utf-8')

    def post_route(name: str, request_model: Type[schemas.BaseModel], response_model: Type[schemas.BaseModel]):
        async def handle(request: Request) -> Response:
            try:
                body = await read_body(request.receive, request.headers, service.config.max_body_bytes)
                payload = parse_request(body, request_model)
                result = await dispatcher.run(name, payload)
                try:
                    response_model.parse_obj(result)
                except schemas.ValidationError as e:
                    raise TrainerError('TRAINER_INTERNAL', f'{name} produced a reply that breaks its schema: {e}') from e
                return JSONResponse(result)
            except BodyTooLarge as e:
                if e.complete:
                    return error_response(e)
                service.counters.request_errors += 1
                return DrainingResponse(e.to_body(), status_code=e.status)
            except TrainerError as e:
                return error_response(e)
            except Exception as e:  # noqa: BLE001 - the API's one error body, whatever failed
                log.error('%s failed:\n%s', name, traceback.format_exc())
                return error_response(TrainerError('TRAINER_INTERNAL', f'{name} failed: {type(e).__name__}: {e}'))

        return handle

    for path, name, request_model, response_model in POST_ROUTES:
        app.add_api_route(path, post_route(name, request_model, response_model), methods=['POST'])

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            return error_response(TrainerError('TRAINER_METHOD_NOT_ALLOWED', f'{request.method} is not allowed on {request.url.path}'))
        if exc.status_code == 404:
            return error_response(TrainerError('TRAINER_NOT_FOUND', f'no route {request.method} {request.url.path}'))
        return error_response(TrainerError('TRAINER_INTERNAL', f'HTTP {exc.status_code}: {exc.detail}'))

    return app
