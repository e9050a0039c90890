import { GraphQLError } from 'graphql';

/** GraphQL errors the API raises on purpose. Anything else is masked as INTERNAL_SERVER_ERROR. */
export function unauthenticated(): GraphQLError {
  return new GraphQLError('Sign in again: the request has no valid bearer token.', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(): GraphQLError {
  return new GraphQLError("You don't have permission to do this.", { extensions: { code: 'FORBIDDEN' } });
}

export function serviceUnavailable(): GraphQLError {
  return new GraphQLError('The service is temporarily unavailable. Try again shortly.', { extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } } });
}

export function badUserInput(message: string, argument?: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...(argument ? { argumentName: argument } : {}) } });
}

export function notFoundError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'NOT_FOUND' } });
}

/** Codes a client may see as they are; every other error becomes a generic INTERNAL_SERVER_ERROR. */
export const PUBLIC_ERROR_CODES = new Set([
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'RATE_LIMITED',
  'QUERY_TOO_COMPLEX',
  'SERVICE_UNAVAILABLE',
]);
