import { GraphQLError, GraphQLFormattedError } from 'graphql';
import { isConnectionError } from './db/database';
import { PUBLIC_ERROR_CODES } from './graphql/errors';
import { Logger, describeError } from './logger';

export interface MaskOptions {
  /** Production: drop graphql-js's "Did you mean …?" hints, which spell out the schema that introspection hides. */
  hideSchemaDetails?: boolean;
}

const SUGGESTION = /\s*Did you mean .*\?$/s;

/**
 * What an error may say to a client: its message and code when deliberate, a generic line otherwise.
 * Used for HTTP (Apollo's formatError) and WebSocket alike, so both transports mask errors the same way.
 */
export function maskError(formatted: GraphQLFormattedError, error: unknown, logger: Logger, options: MaskOptions = {}): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && PUBLIC_ERROR_CODES.has(code)) {
    const message = options.hideSchemaDetails ? formatted.message.replace(SUGGESTION, '') : formatted.message;
    // A rate refusal also says, as a number, how long to wait before retrying.
    const retryAfterMs = code === 'RATE_LIMITED' ? formatted.extensions?.retryAfterMs : undefined;
    return { message, locations: formatted.locations, path: formatted.path, extensions: { code, ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}) } };
  }
  // Apollo's own refusals of a malformed request (an APQ hash that does not match its query, …) carry an HTTP 4xx
  // status but no code: they are the caller's mistake, said as it is.
  const status = (error instanceof GraphQLError ? error : null)?.extensions?.http as { status?: unknown } | undefined;
  if (code === undefined || code === 'INTERNAL_SERVER_ERROR') {
    if (typeof status?.status === 'number' && status.status >= 400 && status.status < 500 && original === error) {
      return { message: formatted.message, extensions: { code: 'BAD_REQUEST' } };
    }
  }
  if (isConnectionError(original)) {
    return { message: 'The service is temporarily unavailable. Try again shortly.', path: formatted.path, extensions: { code: 'SERVICE_UNAVAILABLE' } };
  }
  logger.log('error', 'unexpected_error', { path: formatted.path, ...describeError(original) });
  return { message: 'Something went wrong on our side. Nothing was changed that you were not told about; try again.', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}

