import {
  ASTNode,
  DocumentNode,
  FragmentDefinitionNode,
  GraphQLError,
  GraphQLNamedType,
  GraphQLOutputType,
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
 * Limits on what one operation may ask for, chosen from the real schema: the deepest screen query
 * (patient → charges → edges → node → responsibilities → writeOffs → canRemove → allowed) is 8 levels, and a
 * 100-charge page of a patient with every line, write-off and availability field costs about 200,000, while nesting
 * one page of 100 inside another (patients → charges) costs millions. Applied on HTTP and WebSocket alike.
 */
export const QUERY_LIMITS = {
  maxDepth: 12,
  maxAliases: 15,
  /** Σ over fields of (1 × the list sizes above them). */
  maxCost: 250_000,
  /** Lists without `first` (a charge's lines, a line's write-offs) are assumed this long. */
  assumedListSize: 5,
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

function tooComplex(message: string, node: ASTNode): GraphQLError {
  return new GraphQLError(message, { nodes: [node], extensions: { code: 'QUERY_TOO_COMPLEX' } });
}

interface Measure {
  depth: number;
  cost: number;
  aliases: number;
}

interface Walk {
  context: ValidationContext;
  fragments: Record<string, FragmentDefinitionNode>;
  /** A fragment's measure at a level, computed once: spreads of spreads would otherwise double with every level. */
  memo: Map<string, Measure>;
  /** Fragments being expanded on the current path: a cycle stops here (NoFragmentCyclesRule reports it). */
  path: Set<string>;
}

function measure(walk: Walk, selectionSet: SelectionSetNode, parent: GraphQLNamedType | undefined, level: number): Measure {
  const { context, fragments } = walk;
  const total: Measure = { depth: level, cost: 0, aliases: 0 };
  if (level > QUERY_LIMITS.maxDepth + 1) return total; // deep enough to refuse; stop walking (also ends fragment cycles)
  for (const selection of selectionSet.selections) {
    let inner: Measure | null = null;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) total.aliases += 1;
      const field = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[selection.name.value] : undefined;
      const type: GraphQLOutputType | undefined = field?.type;
      let multiplier = 1;
      if (type && isListType(getNullableType(type))) multiplier = QUERY_LIMITS.assumedListSize;
      const first = selection.arguments?.find((a) => a.name.value === 'first');
      if (first) {
        // A variable's value is unknown while validating (and validation is cached): assume the largest page.
        const value = first.value.kind === Kind.VARIABLE ? 100 : Number(valueFromASTUntyped(first.value));
        multiplier = Number.isFinite(value) && value > 0 ? Math.min(value, 100) : 20;
      } else if (field?.args.some((a) => a.name === 'first')) {
        multiplier = 20;
      }
      total.cost += 1;
      if (selection.selectionSet) {
        const child = measure(walk, selection.selectionSet, type ? getNamedType(type) : undefined, level + 1);
        inner = { depth: child.depth, cost: child.cost * multiplier, aliases: child.aliases };
      }
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const type = selection.typeCondition ? context.getSchema().getType(selection.typeCondition.name.value) ?? parent : parent;
      inner = measure(walk, selection.selectionSet, type, level);
    } else {
      const name = selection.name.value;
      const fragment = fragments[name];
      const key = `${name}@${level}`;
      if (fragment && !walk.path.has(name)) {
        inner = walk.memo.get(key) ?? null;
        if (!inner) {
          walk.path.add(name);
          inner = measure(walk, fragment.selectionSet, context.getSchema().getType(fragment.typeCondition.name.value) ?? undefined, level);
          walk.path.delete(name);
          walk.memo.set(key, inner);
        }
      }
    }
    if (inner) {
      total.depth = Math.max(total.depth, inner.depth);
      total.cost += inner.cost;
      total.aliases += inner.aliases;
    }
  }
  return total;
}

/** Refuses operations that are too deep, use too many aliases, or would cost too much to answer. */
export const queryLimitsRule: ValidationRule = (context) => ({
  OperationDefinition(operation) {
    const fragments = Object.fromEntries(
      context
        .getDocument()
        .definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION)
        .map((d) => [d.name.value, d]),
    );
    const root = context.getSchema().getRootType(operation.operation) ?? undefined;
    const { depth, cost, aliases } = measure({ context, fragments, memo: new Map(), path: new Set() }, operation.selectionSet, root, 0);
    if (depth > QUERY_LIMITS.maxDepth) context.reportError(tooComplex(`The query is nested too deeply: at most ${QUERY_LIMITS.maxDepth} levels.`, operation));
    if (aliases > QUERY_LIMITS.maxAliases) context.reportError(tooComplex(`The query uses too many aliases: at most ${QUERY_LIMITS.maxAliases}.`, operation));
    if (cost > QUERY_LIMITS.maxCost) {
      context.reportError(tooComplex(`The query asks for too much at once (cost ${cost}, limit ${QUERY_LIMITS.maxCost}): request smaller pages.`, operation));
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
