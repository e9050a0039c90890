import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { isConnectionError } from './db/database';
import { PUBLIC_ERROR_CODES } from './graphql/errors';
import { Logger, describeError } from './logger';

/** What an error may say to a client: its message and code when deliberate, a generic line otherwise. */
/** Used for HTTP (Apollo's formatError) and WebSocket alike, so both transports mask errors the same way. */
export function maskError(formatted: GraphQLFormattedError, error: unknown, logger: Logger): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    return { message: formatted.message, locations: formatted.locations, path: formatted.path, extensions: { code } };
  }
  if (isConnectionError(original)) {
    return { message: 'The service is temporarily unavailable. Try again shortly.', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  logger.log('error', 'unexpected_error', { path: formatted.path, ...describeError(original) });
  return { message: 'Something went wrong on our side. Nothing was changed that you were not told about; try again.', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

