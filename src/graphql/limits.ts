import {
  ASTNode,
  DocumentNode,
  FieldNode,
  FragmentDefinitionNode,
  GraphQLField,
  GraphQLError,
  GraphQLNamedType,
  GraphQLSchema,
  SchemaMetaFieldDef,
  TypeInfo,
  TypeMetaFieldDef,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  OperationDefinitionNode,
  SelectionSetNode,
  ValidationContext,
  ValidationRule,
  getNamedType,
  getNullableType,
  isListType,
  isObjectType,
  isInterfaceType,
  Kind,
  valueFromASTUntyped,
  visit,
  BREAK,
} from 'graphql';

/**
 * Limits on what one operation may ask for, applied on HTTP and WebSocket alike before anything executes.
 *
 * The cost estimate is an upper bound of what execution can really build: every field counts 1, times the largest
 * number of times it can appear. A connection counts its `first` (a variable counts as the largest page); every
 * other list counts the bound the server enforces on it, declared on the field as `extensions.maxItems` (a charge
 * holds at most 20 PR lines, a line at most 10 write-offs, ...). A list without a declared bound counts as
 * UNBOUNDED_LIST_SIZE, so forgetting one fails closed. A path may also pass through the same field of the same type
 * only once (`charge { responsibilities { charge { responsibilities ... } } }` refetches what it already has and
 * multiplies the answer). With these bounds the screens a frontend builds cost a small fraction of `maxCost`
 * (the README's examples and the patient, patient list, timeline and audit screens are tested), while nesting
 * pages inside pages, or lines inside lines, costs far more.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  /** Σ over fields of 1 × the bounds of the lists above them (and their own). */
  maxCost: 1_000_000,
  /** Page size a connection is assumed to return when `first` is not given (its default). */
  defaultPageSize: 20,
  /** The largest page a connection returns; also the size assumed for `first: $variable`. */
  maxPageSize: 100,
  maxTokens: 5_000,
  /** Field selections in the whole document (each written field once; fragments are not expanded). */
  maxFields: 500,
  /**
   * Selections with the same response name in one selection set, inline fragments and spreads included. graphql-js's
   * OverlappingFieldsCanBeMergedRule compares them pairwise: a few hundred repeats of one field (well inside the token
   * limit) cost seconds of CPU. This is checked before validation, on HTTP and WebSocket alike.
   */
  maxSameResponseName: 10,
} as const;

/** What a list field with no declared `maxItems` is assumed to hold: large, so that a missing bound is noticed. */
export const UNBOUNDED_LIST_SIZE = 1_000;

function tooComplex(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } });
}

interface Measure {
  /** The deepest level of the schema's own fields. */
  depth: number;
  /** The deepest level inside `__schema` / `__type` (introspection has a depth limit of its own). */
  introspectionDepth: number;
  cost: number;
  aliases: number;
  /** A field the selection passes through twice on one path (`Type.field`), if any. */
  repeated: string | null;
}

interface Walk {
  context: ValidationContext;
  fragments: Record<string, FragmentDefinitionNode>;
  /** A fragment's measure in one place (level, page size, path), computed once: spreads of spreads would otherwise double. */
  memo: Map<string, Measure>;
  /** Fragments being expanded on the current path: a cycle stops here (NoFragmentCyclesRule reports it). */
  expanding: Set<string>;
}

/** Where a selection set sits: how deep, the page size of the connection above it, and the fields on its path. */
interface Place {
  level: number;
  pageSize: number;
  path: ReadonlySet<string>;
  /** Inside `__schema` or `__type`. */
  introspection: boolean;
}

/**
 * Introspection (`__schema`, `__type`) is measured by its own rules, so that the standard introspection query of
 * GraphiQL, Apollo Sandbox and graphql-codegen (whose `ofType { ofType { … } }` chain is deeper than any screen) is
 * answered in development without loosening anything else: its lists count what this schema really has (its number of
 * types, its most fields on one type, …), its single-object chains may go MAX_INTROSPECTION_DEPTH deep, and a list
 * field may not be re-entered on one path (`types { fields { type { fields … } } }`), so it cannot multiply.
 */
export const MAX_INTROSPECTION_DEPTH = 25;

const META_FIELDS: Record<string, GraphQLField<unknown, unknown>> = { __schema: SchemaMetaFieldDef, __type: TypeMetaFieldDef };

const introspectionSizes = new WeakMap<GraphQLSchema, Record<string, number>>();

/** The largest number of items each introspection list can return for this schema. */
function introspectionListSizes(schema: GraphQLSchema): Record<string, number> {
  let sizes = introspectionSizes.get(schema);
  if (sizes) return sizes;
  const types = Object.values(schema.getTypeMap());
  const most = (counts: number[]) => Math.max(1, ...counts);
  const fieldsOf = types.flatMap((t) => (isObjectType(t) || isInterfaceType(t) || isInputObjectType(t) ? [Object.values(t.getFields())] : []));
  const args = most([...fieldsOf.flat().map((f) => ('args' in f ? f.args.length : 0)), ...schema.getDirectives().map((d) => d.args.length)]);
  sizes = {
    '__Schema.types': types.length,
    '__Schema.directives': schema.getDirectives().length,
    '__Type.fields': most(fieldsOf.map((f) => f.length)),
    '__Type.inputFields': most(fieldsOf.map((f) => f.length)),
    '__Type.interfaces': most(types.map((t) => (isObjectType(t) || isInterfaceType(t) ? t.getInterfaces().length : 0))),
    '__Type.possibleTypes': most(types.map((t) => (isAbstractType(t) ? schema.getPossibleTypes(t).length : 0))),
    '__Type.enumValues': most(types.map((t) => (isEnumType(t) ? t.getValues().length : 0))),
    '__Field.args': args,
    '__Directive.args': args,
  };
  introspectionSizes.set(schema, sizes);
  return sizes;
}

/** The page a connection field (one with a `first` argument) is asked for: its literal, or the largest for a variable. */
function requestedPage(selection: FieldNode, field: GraphQLField<unknown, unknown>): number {
  const max = Number(field.extensions?.maxItems ?? QUERY_LIMITS.maxPageSize);
  const argument = selection.arguments?.find((a) => a.name.value === 'first');
  const fallback = field.args.find((a) => a.name === 'first')?.defaultValue;
  if (!argument) return Math.min(max, typeof fallback === 'number' ? fallback : QUERY_LIMITS.defaultPageSize);
  // A variable's value is unknown while validating (and validation is cached): assume the largest page.
  if (argument.value.kind === Kind.VARIABLE) return max;
  const value = Number(valueFromASTUntyped(argument.value));
  return Number.isFinite(value) && value > 0 ? Math.min(value, max) : 1;
}

/** How many times a field's selection can be repeated below it, and the page size its children see. */
function fanOut(selection: FieldNode, field: GraphQLField<unknown, unknown>, parent: GraphQLNamedType, place: Place): { times: number; pageSize: number } {
  const hasFirst = field.args.some((a) => a.name === 'first');
  const isList = isListType(getNullableType(field.type));
  if (hasFirst && !isList) return { times: 1, pageSize: requestedPage(selection, field) }; // a connection: its edges repeat
  if (hasFirst) return { times: requestedPage(selection, field), pageSize: place.pageSize };
  if (!isList) return { times: 1, pageSize: place.pageSize };
  if (parent.name.endsWith('Connection')) return { times: place.pageSize, pageSize: place.pageSize }; // a connection's edges
  const declared = Number(field.extensions?.maxItems);
  return { times: Number.isFinite(declared) ? declared : UNBOUNDED_LIST_SIZE, pageSize: place.pageSize };
}

function measure(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, place: Place): Measure {
  const { context, fragments } = walk;
  const total: Measure = { depth: place.introspection ? 0 : place.level, introspectionDepth: place.introspection ? place.level : 0, cost: 0, aliases: 0, repeated: null };
  // Deep enough to refuse: stop walking (this also ends fragment cycles).
  if (place.level > (place.introspection ? MAX_INTROSPECTION_DEPTH : QUERY_LIMITS.maxDepth) + 1) return total;
  for (const selection of selectionSet.selections) {
    let inner: Measure | null = null;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) total.aliases += 1;
      total.cost += 1;
      const name = selection.name.value;
      const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? (parent.getFields()[name] ?? META_FIELDS[name]) : undefined;
      if (selection.selectionSet && field && parent) {
        const step = `${parent.name}.${field.name}`;
        const introspection = place.introspection || name in META_FIELDS;
        const isList = isListType(getNullableType(field.type));
        // Introspection's `ofType { ofType … }` is a chain of single objects: only its lists may not be re-entered.
        if (place.path.has(step) && (isList || !introspection)) {
          total.repeated ??= step;
          continue;
        }
        const { times, pageSize } = introspection
          ? { times: isList ? (introspectionListSizes(context.getSchema())[step] ?? UNBOUNDED_LIST_SIZE) : 1, pageSize: place.pageSize }
          : fanOut(selection, field, parent, place);
        const child = measure(walk, selection.selectionSet, getNamedType(field.type), { level: place.level + 1, pageSize, path: new Set([...place.path, step]), introspection });
        inner = { ...child, cost: child.cost * times };
      } else if (selection.selectionSet) {
        inner = measure(walk, selection.selectionSet, undefined, { ...place, level: place.level + 1 });
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) ?? parent : parent;
      inner = measure(walk, selection.selectionSet, type, place);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      const key = `${name}@${place.level}@${place.pageSize}@${[...place.path].sort().join(',')}`;
      if (fragment && !walk.expanding.has(name)) {
        inner = walk.memo.get(key) ?? null;
        if (!inner) {
          walk.expanding.add(name);
          inner = measure(walk, fragment.selectionSet, context.getSchema().getType(fragment.typeCondition.name.value) ?? undefined, place);
          walk.expanding.delete(name);
          walk.memo.set(key, inner);
        }
      }
    }
    if (inner) {
      total.depth = Math.max(total.depth, inner.depth);
      total.introspectionDepth = Math.max(total.introspectionDepth, inner.introspectionDepth);
      total.cost += inner.cost;
      total.aliases += inner.aliases;
      total.repeated ??= inner.repeated;
    }
  }
  return total;
}

/** An operation's measure: its depth, estimated cost, aliases and any repeated path step. */
export function measureOperation(context: ValidationContext, operation: OperationDefinitionNode): Measure {
  const fragments = Object.fromEntries(
    context
      .getDocument()
      .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
      .map((d) => [d.name.value, d]),
  );
  const root = context.getSchema().getRootType(operation.operation) ?? undefined;
  const start: Place = { level: 0, pageSize: QUERY_LIMITS.defaultPageSize, path: new Set(), introspection: false };
  return measure({ context, fragments, memo: new Map(), expanding: new Set() }, operation.selectionSet, root, start);
}

/** The estimated cost of a document's first operation, as the limit rule computes it (for tests, docs and benches). */
export function operationCost(schema: GraphQLSchema, document: DocumentNode): number {
  const context = new ValidationContext(schema, document, new TypeInfo(schema), () => undefined);
  const operation = document.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  return operation ? measureOperation(context, operation).cost : 0;
}

/** Refuses operations that are too deep, use too many aliases, go round in circles, or would cost too much to answer. */
export const queryLimitsRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    const { depth, introspectionDepth, cost, aliases, repeated } = measureOperation(context, operation);
    if (depth > QUERY_LIMITS.maxDepth) context.reportError(tooComplex(`The query is nested too deeply: at most ${QUERY_LIMITS.maxDepth} levels.`, operation));
    if (introspectionDepth > MAX_INTROSPECTION_DEPTH) {
      context.reportError(tooComplex(`The introspection query is nested too deeply: at most ${MAX_INTROSPECTION_DEPTH} levels.`, operation));
    }
    if (aliases > QUERY_LIMITS.maxAliases) context.reportError(tooComplex(`The query uses too many aliases: at most ${QUERY_LIMITS.maxAliases}.`, operation));
    if (repeated) {
      context.reportError(tooComplex(`The query goes through ${repeated} again inside itself: select it once and reuse what it returned.`, operation));
    }
    if (cost > QUERY_LIMITS.maxCost) {
      context.reportError(tooComplex(`The query asks for too much at once (cost ${cost}, limit ${QUERY_LIMITS.maxCost}): request smaller pages or fewer nested lists.`, operation));
    }
  },
});

/**
 * Checks a parsed document before it is validated: too many fields, or one response name repeated too often in a
 * selection set, would make validation itself expensive. Null when the document may be validated.
 */
export function documentSizeError(document: DocumentNode): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  let fields = 0;
  visit(document, { Field: () => void (fields += 1) });
  if (fields > QUERY_LIMITS.maxFields) return tooComplex(`The query selects too many fields: at most ${QUERY_LIMITS.maxFields}.`, document);
  // Response names of one selection set, through inline fragments and (each once) named fragments.
  const count = (set: SelectionSetNode, counts: Map<string, number>, spread: Set<string>): string | null => {
    for (const selection of set.selections) {
      if (selection.kind === Kind.FIELD) {
        const name = selection.alias?.value ?? selection.name.value;
        const n = (counts.get(name) ?? 0) + 1;
        counts.set(name, n);
        if (n > QUERY_LIMITS.maxSameResponseName) return name;
      } else {
        const inner = selection.kind === Kind.INLINE_FRAGMENT ? selection.selectionSet : spread.has(selection.name.value) ? null : fragments.get(selection.name.value)?.selectionSet;
        if (selection.kind === Kind.FRAGMENT_SPREAD) spread.add(selection.name.value);
        const found = inner ? count(inner, counts, spread) : null;
        if (found) return found;
      }
    }
    return null;
  };
  let repeated: SelectionSetNode | null = null;
  visit(document, {
    SelectionSet(set) {
      if (count(set, new Map(), new Set())) {
        repeated = set;
        return BREAK;
      }
      return undefined;
    },
  });
  return repeated
    ? tooComplex(`The query repeats a field too often in one selection: at most ${QUERY_LIMITS.maxSameResponseName} times.`, repeated)
    : null;
}
