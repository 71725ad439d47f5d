/**
 * Who is signed in: the token's (or identity's) name and role, so that a client offers only the
 * actions the role may take. Not audited: it reads nothing from the store, and the caller learns
 * only what its own token already says.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { ApiError } from '../plugins/errors.js';
import { errorResponses, StrEnum } from '../schemas.js';
import { ROLES } from '../types.js';

export const WhoamiSchema = Type.Object(
  {
    name: Type.String({ description: 'The token name from the auth file, or `oidc:<name>` for an identity-provider token' }),
    role: StrEnum(ROLES),
  },
  { $id: 'Whoami', additionalProperties: false },
);

export const whoamiRoutes: FastifyPluginAsync = async (instance) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  app.get(
    '/whoami',
    {
      config: { access: 'viewer' },
      schema: { tags: ['auth'], security: [{ bearer: [] }], summary: 'The signed-in name and role', response: { 200: WhoamiSchema, ...errorResponses() } },
    },
    async (request) => {
      const p = request.principal;
      if (p === null) throw new ApiError(401, 'missing bearer token: send "Authorization: Bearer <token>"');
      return { name: p.name, role: p.role };
    },
  );
};
