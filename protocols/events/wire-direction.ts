/**
 * The direction words events use. A value module of its own, without TypeBox, so the parsers
 * that name directions at run time do not load the schema library (`analyze` starts faster).
 */
export type WireDirection = 'to_server' | 'to_client';

/** The direction of a stream (0 = from the connection's initiator) as events name it. */
export function wireDirection(dir: number): WireDirection {
  return dir === 0 ? 'to_server' : 'to_client';
}
