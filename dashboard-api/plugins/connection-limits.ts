/**
 * Limits on connections, so slow or idle clients cannot hold the API: a server-wide cap
 * (`maxConnections`), a cap per client address, an idle timeout per socket, a deadline for a
 * whole request including its body, a short keep-alive and a bounded number of requests per
 * socket. Node checks the request deadline every `checkIntervalMs`.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  /** Open connections in all; more are refused by the server. */
  maxConnections: number;
  /** Open connections from one address; more are closed at once. */
  maxPerClient: number;
  /** A socket with no activity for this long is closed. */
  idleTimeoutMs: number;
  /** Headers and body of one request must arrive within this. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxRequestsPerSocket: number;
  checkIntervalMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 1024,
  maxPerClient: 64,
  idleTimeoutMs: 30_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxRequestsPerSocket: 1000,
  checkIntervalMs: 1000,
};

/** The Fastify server options these limits set. */
export function serverOptions(l: ConnectionLimits) {
  return {
    connectionTimeout: l.idleTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    maxRequestsPerSocket: l.maxRequestsPerSocket,
    http: nodeServerOptions(l),
  };
}

/** What Node's server takes at construction only: set later, the request deadline is not enforced (Node 20). */
export function nodeServerOptions(l: ConnectionLimits) {
  return { connectionsCheckingInterval: l.checkIntervalMs, requestTimeout: l.requestTimeoutMs, headersTimeout: Math.min(l.requestTimeoutMs, 60_000) };
}

export interface ConnectionCounters {
  /** Connections closed because their address already held maxPerClient. */
  refusedPerClient: number;
}

/** Sets the server-wide cap and closes connections beyond the per-address cap. */
export function capConnections(server: Server, l: ConnectionLimits): ConnectionCounters {
  const counters: ConnectionCounters = { refusedPerClient: 0 };
  const open = new Map<string, number>();
  server.maxConnections = l.maxConnections;
  // TLS servers emit 'connection' for the raw socket before the handshake: capped before any work.
  server.on('connection', (socket: Socket) => {
    const addr = socket.remoteAddress ?? '';
    const n = open.get(addr) ?? 0;
    if (n >= l.maxPerClient) {
      counters.refusedPerClient++;
      socket.destroy();
      return;
    }
    open.set(addr, n + 1);
    socket.once('close', () => {
      const m = (open.get(addr) ?? 1) - 1;
      if (m <= 0) open.delete(addr);
      else open.set(addr, m);
    });
  });
  return counters;
}
