/**
 * Errors Fastify answers before any route or hook runs (a path parameter over the length
 * limit: 414; a path that is not valid percent-encoding: 400). By default Fastify echoes the
 * path in its own error shape; here they get the documented shape, a message without the
 * path, the security headers, and they count as denied attempts of the address.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorBody } from './errors.js';
import type { FailureLimiter } from './failure-limit.js';
import { setSecurityHeaders } from './security-headers.js';

export function frameworkErrors(failures: FailureLimiter, tls: boolean) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    setSecurityHeaders(reply, tls);
    const wait = failures.retryAfterMs(request.ip);
    let status: number;
    let message: string;
    if (wait > 0) {
      status = 429;
      message = `too many denied requests from this address; retry in ${Math.ceil(wait / 1000)} s`;
      void reply.header('retry-after', String(Math.ceil(wait / 1000)));
    } else {
      status = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      message =
        status === 414 ? 'a path parameter is longer than allowed' : error.code === 'FST_ERR_BAD_URL' ? 'the path is not valid URL encoding' : 'the request could not be routed';
      const secs = failures.fail(request.ip);
      if (secs > 0) request.log.warn({ address: request.ip, lockout_s: secs }, 'address locked out after repeated denied requests');
    }
    void reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, message));
  };
}
