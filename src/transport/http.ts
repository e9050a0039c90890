import crypto from 'node:crypto';
import type http from 'node:http';
import express, { NextFunction, Request, Response } from 'express';
import { ApolloServer, ApolloServerPlugin } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { DocumentNode, GraphQLError, GraphQLFormattedError, Kind, getVariableValues, parse } from 'graphql';
import { createRequestContext, RequestContext } from '../graphql/context';
import { QUERY_LIMITS, documentSizeError } from '../graphql/limits';
import { maskError } from '../server-errors';
import { Logger, describeError, loggableOperationName } from '../logger';
import type { Actor } from '../auth/actor';
import type { TransportOptions } from './transport-options';
import { admitOperation, auditReads } from './guards';
import { operationAllowed } from '../auth/roles';
import { MAX_ERA_BYTES } from '../era/era835';

export const MAX_BODY_BYTES = 1024 * 1024;
/**
 * The one larger body accepted (docs/design.md §9.1): a request holding a single importRemittanceFile mutation, whose
 * file may be up to MAX_ERA_BYTES, with at most MAX_BODY_BYTES of everything else (JSON escapes of the file included).
 */
export const MAX_IMPORT_BODY_BYTES = MAX_ERA_BYTES + MAX_BODY_BYTES;
const IMPORT_FIELD = 'importRemittanceFile';

/** A client's own request id, kept beside ours when it is short and plain. */
function clientRequestIdOf(req: Request): string | null {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : null;
}

/** An error Apollo sends as it is, with HTTP 200 like a resolver's (Apollo would otherwise answer a plugin's with 500). */
function asRequestError(error: unknown): GraphQLError {
  const base = error instanceof GraphQLError ? error : new GraphQLError('Something went wrong on our side.');
  return new GraphQLError(base.message, { originalError: base.originalError ?? undefined, extensions: { ...base.extensions, http: { status: 200 } } });
}

/** Documents already checked by refuseCostlyDocument, by their text: clients send the same few documents again and again. */
const checkedDocuments = new Map<string, GraphQLError | null>();
const CHECKED_DOCUMENTS_CAPACITY = 500;
/** Longer documents are checked every time rather than kept. */
const CHECKED_DOCUMENT_MAX_LENGTH = 10_000;

/**
 * Refuses, before Apollo validates it, a document whose validation alone would be costly (see documentSizeError):
 * the same check WebSocket makes between parsing and validating. A document that does not parse is left to Apollo.
 * It runs here, at the cost of a second parse (about 7 µs for a write-off, 90 µs for a 3.7 KB screen query) the first
 * time a document is seen, because Apollo answers an error thrown from a plugin hook with a 500, and only the context
 * function's errors keep their 400.
 */
function refuseCostlyDocument(req: Request): void {
  const query = req.method === 'GET' ? req.query.query : (req.body as { query?: unknown } | undefined)?.query;
  if (typeof query !== 'string') return;
  let error = checkedDocuments.get(query);
  if (error === undefined) {
    error = costOfValidating(query);
    if (query.length <= CHECKED_DOCUMENT_MAX_LENGTH) {
      checkedDocuments.set(query, error);
      if (checkedDocuments.size > CHECKED_DOCUMENTS_CAPACITY) checkedDocuments.delete(checkedDocuments.keys().next().value!);
    }
  }
  if (error) throw error;
}

function costOfValidating(query: string): GraphQLError | null {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: QUERY_LIMITS.maxTokens });
  } catch {
    return null;
  }
  const error = documentSizeError(document);
  return error && new GraphQLError(error.message, { nodes: error.nodes, extensions: { code: 'GRAPHQL_VALIDATION_FAILED', http: { status: 400 } } });
}

/** What one HTTP request's log line says; filled in as the request goes (caller, GraphQL outcome). */
interface RequestLog {
  requestId: string;
  clientRequestId: string | null;
  started: bigint;
  actor?: Actor;
  operationName?: string | null;
  codes?: string[];
}

/**
 * One line per HTTP request to /graphql, whatever ends it (an answer, a refused token, CSRF, a body too large or not
 * JSON): request id, operation name, caller, duration, status, outcome. Never variables, results or headers.
 */
function requestLogMiddleware(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction) => {
    const log: RequestLog = { requestId: crypto.randomUUID(), clientRequestId: clientRequestIdOf(req), started: process.hrtime.bigint() };
    res.locals.requestLog = log;
    res.setHeader('x-request-id', log.requestId);
    res.once('close', () => {
      const given = (req.body as { operationName?: unknown } | undefined)?.operationName;
      const operationName = log.operationName ?? loggableOperationName(given);
      const codes = log.codes ?? (res.statusCode >= 400 ? [res.statusCode === 401 ? 'UNAUTHENTICATED' : res.statusCode >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST'] : []);
      logger.log('info', 'graphql_request', {
        requestId: log.requestId,
        ...(log.clientRequestId ? { clientRequestId: log.clientRequestId } : {}),
        transport: 'http',
        operationName,
        actor: log.actor?.userId ?? null,
        role: log.actor?.role ?? null,
        practiceId: log.actor?.practiceId ?? null,
        durationMs: Number(process.hrtime.bigint() - log.started) / 1e6,
        status: res.statusCode,
        outcome: codes.length ? 'error' : 'ok',
        errorCodes: codes.length ? [...new Set(codes)] : undefined,
      });
    });
    next();
  };
}

/**
 * The request's life in Apollo: refuses subscriptions over HTTP (they live on the WebSocket: executed as a query they
 * would fail as an internal error), admits the operation whole or refuses it whole before anything executes, hands
 * what it read to the audit trail, and notes its outcome for the request's log line.
 */
function requestPlugin(options: TransportOptions): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart({ contextValue }) {
      return {
        async didResolveOperation({ operation, request, schema, document }) {
          if (operation?.operation === 'subscription') {
            // Bad variables first, as over WebSocket; then the transport.
            const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {}, { maxErrors: 1 });
            const [invalid] = coerced.errors ?? [];
            if (invalid) throw new GraphQLError(invalid.message, { nodes: invalid.nodes, extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
            throw new GraphQLError('Subscriptions are served over WebSocket (graphql-ws) at this same URL, not over HTTP.', {
              extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
            });
          }
          if (!operation) return;
          try {
            await admitOperation(contextValue, schema, document, operation, request.variables, options.limits);
          } catch (error) {
            throw asRequestError(error);
          }
        },
        async willSendResponse({ response, operationName, errors }) {
          auditReads(contextValue);
          const body = response.body.kind === 'single' ? response.body.singleResult : null;
          const log = (contextValue as RequestContext & { requestLog?: RequestLog }).requestLog;
          if (log) {
            log.operationName = loggableOperationName(operationName);
            log.codes = (body?.errors ?? errors ?? []).map((e) => String((e as GraphQLFormattedError).extensions?.code ?? 'ERROR'));
          }
        },
      };
    },
  };
}

type SizedRequest = Request & { bodyBytes?: number };
const noteSize = (req: Request, _res: Response, buf: Buffer) => {
  (req as SizedRequest).bodyBytes = buf.length;
};
const parseJson = express.json({ limit: MAX_BODY_BYTES });
const parseImportJson = express.json({ limit: MAX_IMPORT_BODY_BYTES, verify: noteSize });

function tooLarge(limit: number): Error & { status: number; limit: number } {
  return Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large', limit });
}

/**
 * The request body, within its size limit (docs/design.md §9.1). A body that says it is at most MAX_BODY_BYTES is
 * read with that limit, as always. A larger one (or one of unknown size: chunked or compressed) may be a single
 * importRemittanceFile mutation: only for a caller whose role may import is it read up to MAX_IMPORT_BODY_BYTES, and it
 * is refused with 413 unless it is that mutation with at most MAX_BODY_BYTES besides the file. Every limit is applied
 * while the body streams in (and from Content-Length before any of it is read), so no larger body is ever held whole.
 * The token is read here only to pick the limit; the context function authenticates the request as usual.
 */
function bodyWithinLimits(authenticate: TransportOptions['authenticate']) {
  return async (req: Request, res: Response, next: NextFunction) => {
    const declared = req.headers['content-length'] === undefined ? NaN : Number(req.headers['content-length']);
    const identity = (req.headers['content-encoding'] ?? 'identity').toLowerCase() === 'identity';
    if (req.method !== 'POST' || (identity && declared <= MAX_BODY_BYTES)) return parseJson(req, res, next);
    const actor = await authenticate(req.headers.authorization).catch(() => null);
    if (!actor || !operationAllowed(actor.role, `Mutation.${IMPORT_FIELD}`)) return parseJson(req, res, next);
    parseImportJson(req, res, (error?: unknown) => {
      if (error) return next(error);
      const bytes = (req as SizedRequest).bodyBytes ?? 0;
      if (bytes > MAX_BODY_BYTES && !isSingleImport(req.body, bytes)) return next(tooLarge(MAX_BODY_BYTES));
      next();
    });
  };
}

/**
 * Whether a parsed body is one importRemittanceFile mutation and nothing else, whose `content` is what makes it large:
 * the body less the file's JSON is at most MAX_BODY_BYTES. The file may be a variable or inline in the document.
 */
function isSingleImport(body: unknown, bytes: number): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const { query, variables } = body as { query?: unknown; variables?: unknown };
  if (typeof query !== 'string') return false;
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: QUERY_LIMITS.maxTokens });
  } catch {
    return false;
  }
  // One operation (fragments for its selections are fine), a mutation, of one root field.
  const operations = document.definitions.filter((d) => d.kind !== Kind.FRAGMENT_DEFINITION);
  const [operation] = operations;
  if (operations.length !== 1 || operation.kind !== Kind.OPERATION_DEFINITION || operation.operation !== 'mutation') return false;
  const [field, ...rest] = operation.selectionSet.selections;
  if (rest.length || field?.kind !== Kind.FIELD || field.name.value !== IMPORT_FIELD) return false;
  const vars = typeof variables === 'object' && variables !== null ? (variables as Record<string, unknown>) : {};
  const input = field.arguments?.find((a) => a.name.value === 'input')?.value;
  let content: unknown;
  if (input?.kind === Kind.VARIABLE) {
    content = (vars[input.name.value] as { content?: unknown } | undefined)?.content;
  } else if (input?.kind === Kind.OBJECT) {
    const value = input.fields.find((f) => f.name.value === 'content')?.value;
    content = value?.kind === Kind.VARIABLE ? vars[value.name.value] : value?.kind === Kind.STRING ? value.value : undefined;
  }
  if (typeof content !== 'string') return false;
  return bytes - Buffer.byteLength(JSON.stringify(content)) <= MAX_BODY_BYTES;
}

export interface HttpTransport {
  apollo: ApolloServer<RequestContext>;
}

/**
 * GraphQL over HTTP at POST /graphql (and GET for queries), with Apollo: the caller's token is checked in the context
 * function, costly documents are refused before validation, and errors are masked like the WebSocket's.
 * `drain` runs when Apollo stops (it closes the WebSocket transport).
 */
export async function attachHttp(app: express.Express, httpServer: http.Server, options: TransportOptions, drain: () => Promise<void>): Promise<HttpTransport> {
  const { schema, services, authenticate, logger, config } = options;
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: !config.isProduction,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    csrfPrevention: true,
    validationRules: options.validationRules,
    parseOptions: { maxTokens: QUERY_LIMITS.maxTokens },
    formatError: (formatted, error) => maskError(formatted, error, logger, { hideSchemaDetails: config.isProduction }),
    stopOnTerminationSignals: false,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: 5000 }),
      { async serverWillStart() { return { drainServer: drain }; } },
      requestPlugin(options),
      // No field carries cache hints, and the plugin would wrap every field resolver of every request.
      ApolloServerPluginCacheControlDisabled(),
      ...(config.isProduction ? [ApolloServerPluginLandingPageDisabled()] : []),
    ],
  });
  await apollo.start();

  app.use(
    '/graphql',
    requestLogMiddleware(logger),
    bodyWithinLimits(authenticate),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const log = res.locals.requestLog as RequestLog;
        const actor = await authenticate(req.headers.authorization);
        log.actor = actor;
        refuseCostlyDocument(req);
        // Work for a client that hung up stops at its next list (see execution-budget.ts).
        const gone = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) gone.abort();
        });
        const context = createRequestContext(services, actor, { requestId: log.requestId, clientRequestId: log.clientRequestId, transport: 'http', signal: gone.signal });
        // Object.assign, not a spread: the context's loaders are a lazy accessor.
        return Object.assign(context, { requestLog: log });
      },
    }),
  );
  // Body-parser failures (malformed JSON, too large) answer like GraphQL, without Express's stack-trace page.
  app.use((error: { status?: number; type?: string; limit?: number }, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) return next(error);
    const status = error.status === 413 ? 413 : error.status && error.status < 500 ? 400 : 500;
    const tooLargeMessage =
      error.limit === MAX_IMPORT_BODY_BYTES
        ? `The request body is larger than ${MAX_IMPORT_BODY_BYTES} bytes: an 835 file for importRemittanceFile may be at most ${MAX_ERA_BYTES} bytes (5 MiB).`
        : `The request body is larger than ${MAX_BODY_BYTES} bytes.`;
    const message = status === 413 ? tooLargeMessage : status === 400 ? 'The request body is not valid JSON.' : 'Something went wrong on our side.';
    if (status === 500) logger.log('error', 'http_error', describeError(error));
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST' } }] });
  });
  return { apollo };
}
