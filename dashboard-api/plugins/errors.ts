/**
 * Errors: every error is JSON `{statusCode, error, message}`. Bad input (schema, store input,
 * bad JSON) is a 400 naming the field; an impossible lifecycle change is a 409; a closed or
 * broken store is a 503. Anything unexpected is a 500 whose message says nothing about the
 * data (the details go to the log, which never holds patient values either).
 */
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifySchemaValidationError } from 'fastify';
import { AlertTransitionError, redactFnr, StoreInputError } from '../../agent/store/index.js';

/** An error a route throws on purpose, with its status code. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Marks a plugin as not encapsulated (what fastify-plugin does), so its hooks and decorators apply to the whole app. */
export function globalPlugin<T extends FastifyPluginCallback<any> | ((app: FastifyInstance, opts: any) => Promise<void>)>(fn: T, name: string): T {
  const f = fn as unknown as Record<symbol | string, unknown>;
  f[Symbol.for('skip-override')] = true;
  f[Symbol.for('fastify.display-name')] = name;
  return fn;
}

export function errorBody(statusCode: number, message: string) {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

function fieldOf(context: string, instancePath: string): string {
  const parts = instancePath.split('/').slice(1);
  let s = '';
  for (const p of parts) s += /^\d+$/.test(p) ? `[${p}]` : s ? `.${p}` : p;
  return s || context;
}

/** Turns Ajv errors into one readable sentence naming the field (Fastify's `schemaErrorFormatter`). */
export function formatSchemaErrors(errors: FastifySchemaValidationError[], context: string): Error {
  const e = errors[0];
  const where = context === 'querystring' ? 'query parameter' : context === 'params' ? 'path parameter' : context;
  const field = fieldOf(context, e?.instancePath ?? '');
  const p = (e?.params ?? {}) as Record<string, unknown>;
  let msg: string;
  // TypeBox reports an unknown key at the key itself ("schema is false"); Ajv at its object.
  if (e?.message === 'schema is false') {
    const key = (e.instancePath ?? '').split('/').pop() ?? '';
    const err = new Error(`${where} "${key}" is not known`) as Error & { statusCode: number };
    err.statusCode = 400;
    return err;
  }
  switch (e?.keyword) {
    case 'additionalProperties':
      msg = `${where} "${String(p.additionalProperty)}" is not known`;
      break;
    case 'required':
      msg = `${where} "${String(p.missingProperty)}" is required`;
      break;
    case 'enum':
      msg = `${where} ${field}: expected one of ${(p.allowedValues as unknown[]).join(', ')}`;
      break;
    case 'pattern':
      msg = `${where} ${field}: has characters or a form that is not allowed`;
      break;
    case 'type':
      msg = field === context ? `${context}: expected ${String(p.type)}` : `${where} ${field}: expected ${String(p.type)}`;
      break;
    default:
      msg = `${where} ${field}: ${e?.message ?? 'is not valid'}`;
  }
  const err = new Error(msg) as Error & { statusCode: number };
  err.statusCode = 400;
  return err;
}

function isStoreUnavailable(e: Error): boolean {
  return e.name === 'SqliteError' || /database connection is not open/i.test(e.message);
}

export const errorsPlugin = globalPlugin(function errors(app: FastifyInstance, _opts: unknown, done: (err?: Error) => void) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    let status: number;
    let message: string;
    if (error.validation) {
      status = 400;
      message = error.message;
    } else if (error instanceof StoreInputError) {
      status = 400;
      message = error.message;
    } else if (error instanceof AlertTransitionError) {
      status = 409;
      message = error.message;
    } else if (error instanceof ApiError) {
      status = error.statusCode;
      message = error.message;
    } else if (typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500) {
      // Fastify's own client errors (bad JSON, body too large, unsupported media type, rate limit).
      status = error.statusCode;
      message = error.message;
    } else if (isStoreUnavailable(error)) {
      status = 503;
      message = 'the alert store is not available';
      request.log.error({ err: { name: error.name, code: error.code } }, 'store unavailable');
    } else {
      status = 500;
      message = 'internal error';
      request.log.error({ err: { name: error.name, code: error.code, stack: error.stack } }, 'unhandled error');
    }
    if (status === 401) void reply.header('www-authenticate', 'Bearer realm="muvakt"');
    return reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, redactFnr(message)));
  });
  app.setNotFoundHandler((request, reply) => {
    return reply.code(404).send(errorBody(404, `no such route (${request.method})`));
  });
  done();
}, 'muvakt-errors');
