/**
 * vLLM 0.32.0's error replies, built once for every vLLM-compatible server
 * of differad (docs/vllm-protocol.md §2). Each names the handler it copies
 * under `entrypoints/serve/exception_handling/`.
 */

/** A route's answer: status and JSON body (null: an empty 200). */
export interface DevRouteReply {
  readonly status: number;
  readonly body: unknown;
}

/** One failed check of a request, as pydantic reports it: where (`loc` after `body`/`query`) and why. */
export interface ValidationProblem {
  readonly loc: readonly (string | number)[];
  readonly msg: string;
}

const pyRepr = (v: string | number): string => (typeof v === 'number' ? String(v) : `'${v}'`);

/**
 * FastAPI's RequestValidationError as vLLM answers it (handlers/validation.py):
 * 400, type `Bad Request`, `N validation error(s):` with one line per error,
 * `param` the first error's `loc` joined with dots (`body.max_tokens`).
 */
export function toValidationReply(problems: readonly ValidationProblem[]): DevRouteReply {
  const label = problems.length === 1 ? 'error' : 'errors';
  const lines = problems
    .slice(0, 10)
    .map((p) => `  {'loc': (${p.loc.map(pyRepr).join(', ')}${p.loc.length === 1 ? ',' : ''}), 'msg': '${p.msg}'}`);
  const message = `${problems.length} validation ${label}:\n${lines.join('\n')}`;
  const param = problems[0] ? problems[0].loc.join('.') : null;
  return { status: 400, body: { error: { message, type: 'Bad Request', param, code: 400 } } };
}

/** A validation error of one field (`body.init_info`, `query.mode`). */
export function validationError(param: string, msg: string): DevRouteReply {
  return toValidationReply([{ loc: param.split('.'), msg }]);
}

/**
 * A RequestValidationError raised with a plain string, as `validate_json_request`
 * raises it for another content type (serve/utils/api_utils.py): no `loc`, so no `param`.
 */
export function plainValidationError(text: string): DevRouteReply {
  return { status: 400, body: { error: { message: `1 validation error:\n  ${text}`, type: 'Bad Request', param: null, code: 400 } } };
}

/** An HTTPException raised in a route (handlers/http.py): the status's phrase as type. */
export function httpError(status: number, message: string): DevRouteReply {
  return { status, body: { error: { message, type: 'Bad Request', param: null, code: status } } };
}

/** Anything the worker raised inside collective_rpc: the engine core's failure message, a 500 (docs/vllm-protocol.md §2). */
export function engineFailure(message: string): DevRouteReply {
  return {
    status: 500,
    body: { error: { message: `Call to collective_rpc method failed: ${message}`, type: 'InternalServerError', param: null, code: 500 } },
  };
}

/** A `ValueError` in the API process or the serving layer (handlers/exception.py): 400 `BadRequestError`. */
export function badRequest(message: string, param: string | null): DevRouteReply {
  return { status: 400, body: { error: { message, type: 'BadRequestError', param, code: 400 } } };
}

/** The serving layer's `_check_model` (entrypoints/serve/engine/serving.py): 404 `NotFoundError` on `model`. */
export function modelNotFound(requested: string, served: string): DevRouteReply {
  return {
    status: 404,
    body: {
      error: {
        message: `The model \`${requested}\` does not exist. Valid aliases: ${served}.`,
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
    },
  };
}

/** FastAPI's answer for a route that does not exist. */
export const NOT_FOUND: DevRouteReply = { status: 404, body: { detail: 'Not Found' } };
