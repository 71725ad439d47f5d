/**
 * The loaded site policy (read: viewer), and reload from its file (admin). The pseudonym key's
 * file path is not returned.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import * as Type from 'typebox';
import { PolicySchema, type Policy } from '../../rules/policy/index.js';
import { ApiError } from '../plugins/errors.js';
import { errorResponses } from '../schemas.js';

export const PolicyResponseSchema = Type.Omit(PolicySchema, ['pseudonym_key_file']);

export interface PolicyHolder {
  current: Policy | null;
  /** Re-reads the policy file; throws an Error whose message lists the problems. */
  reload?: () => Policy;
}

export const policyRoutes: FastifyPluginAsync<{ policy: PolicyHolder }> = async (instance, opts) => {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();
  const holder = opts.policy;
  const tags = ['policy'];
  const security = [{ bearer: [] }];
  app.get(
    '/policy',
    {
      config: { access: 'viewer', audit: 'policy.read' },
      schema: { tags, security, summary: 'The site policy in force (404 when none is loaded)', response: { 200: PolicyResponseSchema, ...errorResponses(404) } },
    },
    async () => {
      if (holder.current === null) throw new ApiError(404, 'no policy is loaded (start with --policy FILE)');
      return holder.current;
    },
  );
  app.post(
    '/policy/reload',
    {
      config: { access: 'admin', audit: 'policy.reload' },
      schema: { tags, security, summary: 'Re-read the policy file (admin); 422 if it has errors, the old policy stays', response: { 200: PolicyResponseSchema, ...errorResponses(404, 422) } },
    },
    async (request) => {
      if (holder.reload === undefined) throw new ApiError(404, 'policy reload is not available: no policy file was given');
      let next: Policy;
      try {
        next = holder.reload();
      } catch (e) {
        throw new ApiError(422, `policy not reloaded: ${(e as Error).message}`);
      }
      holder.current = next;
      request.log.info({ actor: request.principal?.name }, 'policy reloaded');
      return next;
    },
  );
};
