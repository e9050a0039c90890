import type { GraphQLSchema, ValidationRule } from 'graphql';
import type { Actor } from '../auth/actor';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Services } from '../services';
import type { CallerLimits } from './guards';

/** What both transports are built from: one schema, one set of rules and guards, one way to authenticate. */
export interface TransportOptions {
  schema: GraphQLSchema;
  services: Services;
  /** The caller behind a bearer token; throws UNAUTHENTICATED or SERVICE_UNAVAILABLE. */
  authenticate(authorization: unknown): Promise<Actor>;
  logger: Logger;
  /** Validation rules beyond graphql-js's standard ones (cost, depth; no introspection in production). */
  validationRules: ValidationRule[];
  limits: CallerLimits;
  config: Config;
}
